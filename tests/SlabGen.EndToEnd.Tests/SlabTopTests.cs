using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>
/// dotnet-slabtop against a real process: SlabGen.SlabTopTarget fills a cache and waits; the tool attaches over
/// EventPipe and its <c>--once</c> snapshot must show that cache's slabinfo row as slabtop would.
/// </summary>
public class SlabTopTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);
    private const string CacheName = "slabtop_target";

    [Fact]
    public void Once_prints_the_targets_caches_as_slabtop_does()
    {
        using Process target = Start(Metadata("SlabTopTarget"), CacheName, "200", "1000");
        try
        {
            // The target prints its rows, then "ready": it is idle from then on (reaping is off), so they stay exact.
            var rows = new Dictionary<string, SlabInfoRow>();
            for (string? line = ReadLine(target); line != "ready"; line = ReadLine(target))
            {
                if (line == null || !line.StartsWith("row ", StringComparison.Ordinal))
                    Assert.Fail("the target said '" + line + "' instead of its slabinfo rows");
                SlabInfoRow row = ParseSlabInfo(line[4..]);
                rows[row.Name] = row;
            }
            Assert.Equal(2, rows.Count);

            (int exit, string output, string errors) = RunTool("--once", "-p", target.Id.ToString(CultureInfo.InvariantCulture));
            Assert.True(exit == 0, $"dotnet-slabtop exited with {exit}:\n{output}\n{errors}");
            Assert.False(output.Contains('\u001b', StringComparison.Ordinal), "escape sequences in --once output"); // plain text: no colours, no cursor movement
            string[] lines = output.Split('\n');
            Assert.Matches(@"^ Active / Total Objects \(% used\)    : \d+ / \d+ \(\d+\.\d%\)$", lines[0]);
            Assert.Matches(@"^ Active / Total Slabs \(% used\)      : \d+ / \d+ \(\d+\.\d%\)$", lines[1]);
            Assert.Matches(@"^ Active / Total Caches \(% used\)     : \d+ / \d+ \(\d+\.\d%\)$", lines[2]);
            Assert.Matches(@"^ Active / Total Size \(% used\)       : \d+\.\d\dK / \d+\.\d\dK \(\d+\.\d%\)$", lines[3]);
            Assert.Matches(@"^ Minimum / Average / Maximum Object : \d+\.\d\dK / \d+\.\d\dK / \d+\.\d\dK$", lines[4]);
            Assert.Equal("", lines[5]);
            Assert.Equal("  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME", lines[6]);
            var table = lines.Skip(7).Where(l => l.Length > 0).Select(ParseTopRow).ToList();

            foreach (SlabInfoRow expected in rows.Values)
            {
                var shown = table.Single(r => r.Name == expected.Name);
                Assert.Equal(expected.NumObjs, shown.Objs);
                Assert.Equal(expected.ActiveObjs, shown.Active);
                Assert.Equal(expected.ActiveObjs * 100 / expected.NumObjs, shown.Use);
                Assert.Equal((expected.ObjSize / 1024.0).ToString("0.00", CultureInfo.InvariantCulture), shown.ObjSize);
                Assert.Equal(expected.NumSlabs, shown.Slabs);
                Assert.Equal(expected.ObjPerSlab, shown.ObjPerSlab);
                Assert.Equal(expected.NumSlabs * expected.PagesPerSlab * 4, shown.CacheSizeK);
            }
            Assert.True(rows[CacheName].ActiveObjs >= 1000);
            Assert.Contains(table, r => r.Name == "kmalloc-8");
            // The default order is slabtop's: most objects first.
            Assert.Equal(table.OrderByDescending(r => r.Objs).ThenBy(r => r.Name, StringComparer.Ordinal).Select(r => r.Name), table.Select(r => r.Name));
            // The totals are the rows' sums.
            Assert.EndsWith(string.Create(CultureInfo.InvariantCulture,
                $": {table.Sum(r => r.Active)} / {table.Sum(r => r.Objs)} ({100.0 * table.Sum(r => r.Active) / table.Sum(r => r.Objs):0.0}%)"), lines[0]);
            Assert.Contains($" / {table.Sum(r => r.Slabs)} (", lines[1]);
            Assert.Contains($": {table.Count(r => r.Active > 0)} / {table.Count} (", lines[2]);

            (exit, output, errors) = RunTool("-o", "-s", "n", "-p", target.Id.ToString(CultureInfo.InvariantCulture));
            Assert.True(exit == 0, $"dotnet-slabtop -s n exited with {exit}:\n{output}\n{errors}");
            var byName = output.Split('\n').Skip(7).Where(l => l.Length > 0).Select(l => ParseTopRow(l).Name).ToList();
            Assert.Equal(byName.OrderBy(n => n, StringComparer.Ordinal), byName);
            Assert.Contains(CacheName, byName);
        }
        finally
        {
            Stop(target);
        }
    }

    [Fact]
    public async Task A_second_session_on_a_process_says_another_tool_holds_it()
    {
        using Process target = Start(Metadata("SlabTopTarget"), CacheName + "_busy", "64", "10");
        Process? live = null;
        try
        {
            while (ReadLine(target) is string line && line != "ready")
                Assert.StartsWith("row ", line, StringComparison.Ordinal);
            string pid = target.Id.ToString(CultureInfo.InvariantCulture);
            // The live table holds the process's metrics provider once it shows the column header.
            live = Start(Metadata("SlabTop"), "-p", pid, "-d", "1");
            live.StandardInput.Close();
            var shown = new TaskCompletionSource();
            var screen = new System.Text.StringBuilder();
            _ = Task.Run(() =>
            {
                var buffer = new char[4096];
                for (int n; (n = live.StandardOutput.Read(buffer, 0, buffer.Length)) > 0;)
                {
                    lock (screen)
                    {
                        // The header first, then the rows of the first collection: wait for the target's own row.
                        string sofar = screen.Append(buffer, 0, n).ToString();
                        if (sofar.Contains("OBJS", StringComparison.Ordinal) && sofar.Contains(CacheName + "_busy", StringComparison.Ordinal))
                            shown.TrySetResult();
                    }
                }
                shown.TrySetResult();
            });
            await shown.Task.WaitAsync(Step); // a TimeoutException if the live table shows nothing
            string text;
            lock (screen)
                text = screen.ToString();
            Assert.Contains("OBJS", text);
            Assert.Contains(CacheName + "_busy", text);

            (int exit, _, string errors) = RunTool("--once", "-p", pid);
            Assert.Equal(1, exit);
            Assert.Contains("another tool (dotnet-counters, dotnet-monitor, another dotnet-slabtop) holds the process's metrics provider", errors);
        }
        finally
        {
            if (live != null)
            {
                live.Kill(entireProcessTree: true);
                live.WaitForExit(TimeSpan.FromSeconds(10));
                live.Dispose();
            }
            Stop(target);
        }
    }

    [Fact]
    public void A_bad_sort_key_or_a_missing_process_is_a_clear_error()
    {
        (int exit, _, string errors) = RunTool("--once", "-s", "x", "-p", "1");
        Assert.Equal(2, exit);
        Assert.Contains("'x' is not a sort criterion", errors);
        (exit, _, errors) = RunTool("--once");
        Assert.Equal(2, exit);
        Assert.Contains("-p <pid>", errors);
        // A process id no .NET process has: the tool says it cannot attach, and does not hang.
        (exit, _, errors) = RunTool("--once", "-p", "2147483646");
        Assert.Equal(1, exit);
        Assert.Contains("cannot attach to process 2147483646", errors);
    }

    private static SlabInfoRow ParseSlabInfo(string line)
    {
        Match m = Regex.Match(line, @"^(\S+)\s+(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +(\d+) +(\d+) +(\d+) : slabdata +(\d+) +(\d+) +(\d+)$");
        Assert.True(m.Success, line);
        long L(int g) => long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        return new SlabInfoRow(m.Groups[1].Value, L(2), L(3), (int)L(4), (int)L(5), (int)L(6), (int)L(7), (int)L(8), (int)L(9), L(10), L(11), L(12));
    }

    private static (long Objs, long Active, long Use, string ObjSize, long Slabs, long ObjPerSlab, long CacheSizeK, string Name) ParseTopRow(string line)
    {
        // "%6u %6u %3u%% %7.2fK %6u %8u %9uK %-23s"
        Match m = Regex.Match(line, @"^ *(\d+) +(\d+) +(\d+)% +(\d+\.\d\d)K +(\d+) +(\d+) +(\d+)K (\S+)$");
        Assert.True(m.Success, "not a slabtop row: '" + line + "'");
        long L(int g) => long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        Assert.Equal(6 + 1 + 6 + 1 + 4 + 1 + 8 + 1 + 6 + 1 + 8 + 1 + 10 + 1, line.IndexOf(m.Groups[8].Value, StringComparison.Ordinal));
        return (L(1), L(2), L(3), m.Groups[4].Value, L(5), L(6), L(7), m.Groups[8].Value);
    }

    private static Process Start(string dll, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string a in arguments)
            start.ArgumentList.Add(a);
        start.Environment["SLABGEN_NO_REAP"] = "1";
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start " + dll);
    }

    private static string? ReadLine(Process process)
    {
        Task<string?> line = process.StandardOutput.ReadLineAsync();
        Assert.True(line.Wait(Step), "the target printed nothing for " + Step);
        return line.Result;
    }

    private static (int ExitCode, string Output, string Errors) RunTool(params string[] arguments)
    {
        using Process tool = Start(Metadata("SlabTop"), arguments);
        tool.StandardInput.Close();
        Task<string> stdout = tool.StandardOutput.ReadToEndAsync();
        Task<string> stderr = tool.StandardError.ReadToEndAsync();
        if (!tool.WaitForExit(Step))
        {
            tool.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet-slabtop " + string.Join(" ", arguments) + " took more than " + Step);
        }
        return (tool.ExitCode, stdout.Result, stderr.Result);
    }

    private static void Stop(Process target)
    {
        try
        {
            target.StandardInput.Close();
            if (!target.WaitForExit(TimeSpan.FromSeconds(10)))
                target.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }

    private static string Metadata(string key)
        => typeof(SlabTopTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
            ?? throw new InvalidOperationException("no assembly metadata " + key);
}
