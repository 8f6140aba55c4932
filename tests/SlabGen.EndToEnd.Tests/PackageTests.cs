using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Text;
using System.Xml.Linq;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>
/// Packs the SlabGen package and the dotnet-slabtop tool from this checkout the way a fresh clone does (its own
/// artifacts folder, so nothing an earlier build left in bin/ or obj/ is used), into a folder feed; then builds and runs
/// fresh consumers that reference the package by PackageReference from that feed only, outside central package
/// management and with their own empty NuGet cache, as a user's console app does: the runtime must come from lib/
/// and the generator from analyzers/dotnet/cs. The README's first snippet is one of the consumers.
/// </summary>
public class PackageTests : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);
    private static readonly Guid SourceLinkId = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private readonly string _root = Path.Combine(Path.GetTempPath(), "slabgen-package-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is not a test failure.
        }
    }

    [Fact]
    public void A_packed_package_generates_and_runs_in_a_fresh_consumer()
    {
        string feed = Path.Combine(_root, "feed");
        string artifacts = Path.Combine(_root, "artifacts");
        string consumer = Path.Combine(_root, "consumer");
        Directory.CreateDirectory(consumer);
        string version = Metadata("PackageVersion");
        string repository = Metadata("RepositoryRoot");

        Run(repository, "pack", Path.Combine("src", "SlabGen", "SlabGen.csproj"), "-c", "Release", "--artifacts-path", artifacts, "-o", feed);
        CheckLibraryPackage(Path.Combine(feed, "SlabGen." + version + ".nupkg"), Path.Combine(feed, "SlabGen." + version + ".snupkg"));

        File.WriteAllText(Path.Combine(consumer, "nuget.config"), FeedConfig(feed));
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), ConsumerProject(version));
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), ConsumerProgram);

        Run(consumer, "build", "-c", "Release");
        string output = Run(consumer, Path.Combine(consumer, "bin", "Release", "net10.0", "Consumer.dll"));

        Assert.Contains("order 42 99.5 flag 1", output);
        Assert.Contains("size 24 24 class 32", output);
        Assert.Contains("tick 7", output);
        Assert.Contains("meter SlabGen", output);
        Assert.Contains("\nconsumer_order ", output.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Contains("\ntick ", output.Replace("\r\n", "\n", StringComparison.Ordinal));

        // The README's first snippet, pasted into a new console app's Program.cs, compiles and runs.
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), ReadmeSnippet(repository));
        Run(consumer, "build", "-c", "Release", "--no-restore");
        string readme = Run(consumer, Path.Combine(consumer, "bin", "Release", "net10.0", "Consumer.dll"));
        Assert.StartsWith("slabinfo - version: 2.1", readme, StringComparison.Ordinal);
        Assert.Contains("\npacket_cache ", readme.Replace("\r\n", "\n", StringComparison.Ordinal));

        // The analyzer also reports through the package: a struct that is not partial fails the build with SLAB001.
        File.AppendAllText(Path.Combine(consumer, "Program.cs"), "\n[SlabCache] public struct NotPartial { public int A; }\n");
        (int exitCode, string failed) = TryRun(consumer, "build", "-c", "Release", "--no-restore");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("error SLAB001", failed);
    }

    [Fact]
    public void PackedToolInstallsAndRuns()
    {
        string feed = Path.Combine(_root, "feed");
        string tools = Path.Combine(_root, "tools");
        string version = Metadata("PackageVersion");
        Run(Metadata("RepositoryRoot"), "pack", Path.Combine("src", "dotnet-slabtop", "dotnet-slabtop.csproj"), "-c", "Release",
            "--artifacts-path", Path.Combine(_root, "artifacts"), "-o", feed);
        string package = Path.Combine(feed, "dotnet-slabtop." + version + ".nupkg");
        using (ZipArchive zip = ZipFile.OpenRead(package))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("tools/net10.0/any/dotnet-slabtop.dll", entries);
            Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", entries);
            Assert.Contains("README.md", entries);
            XDocument settings = XDocument.Load(zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
            Assert.Equal("dotnet-slabtop", settings.Descendants("Command").Single().Attribute("Name")?.Value);
            XElement metadata = Nuspec(zip);
            Assert.Equal("DotnetTool", metadata.Element(metadata.Name.Namespace + "packageTypes")?.Elements().Single().Attribute("name")?.Value);
            Assert.Equal("MIT", metadata.Element(metadata.Name.Namespace + "license")?.Value);
        }
        Assert.True(File.Exists(Path.Combine(feed, "dotnet-slabtop." + version + ".snupkg")), "no symbol package for the tool");

        // Installed as users install it; its own dependencies come from the packages the repository restored.
        string config = Path.Combine(_root, "tool-nuget.config");
        File.WriteAllText(config, FeedConfig(feed, GlobalPackagesFolder()));
        Run(_root, "tool", "install", "dotnet-slabtop", "--version", version, "--tool-path", tools, "--configfile", config);
        (int exitCode, string help) = TryRunProgram(Path.Combine(tools, "dotnet-slabtop"), "--help");
        Assert.True(exitCode == 0, help);
        Assert.Contains("dotnet-slabtop -p <pid>", help);
        Assert.Contains("u: sort by cache utilization", help);
    }

    private static void CheckLibraryPackage(string package, string symbols)
    {
        Assert.True(File.Exists(package), "no " + package);
        string commit;
        using (ZipArchive zip = ZipFile.OpenRead(package))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("lib/net10.0/SlabGen.dll", entries);
            Assert.Contains("lib/net10.0/SlabGen.xml", entries);
            Assert.Contains("analyzers/dotnet/cs/SlabGen.Generator.dll", entries);
            Assert.Contains("README.md", entries);
            Assert.DoesNotContain(entries, e => e.EndsWith(".pdb", StringComparison.Ordinal));
            XElement metadata = Nuspec(zip);
            XNamespace ns = metadata.Name.Namespace;
            Assert.Equal("expression", metadata.Element(ns + "license")?.Attribute("type")?.Value);
            Assert.Equal("MIT", metadata.Element(ns + "license")?.Value);
            Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
            Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "releaseNotes")?.Value), "no release notes");
            // No package dependency on the generator: it ships inside.
            Assert.Empty(metadata.Descendants(ns + "dependency"));
            XElement repository = metadata.Element(ns + "repository") ?? throw new InvalidOperationException("no <repository> in the nuspec");
            Assert.Equal("git", repository.Attribute("type")?.Value);
            commit = repository.Attribute("commit")?.Value ?? throw new InvalidOperationException("no commit in <repository>");
            Assert.Matches("^[0-9a-f]{40}$", commit);
            Assert.StartsWith("https://", repository.Attribute("url")?.Value);
        }
        Assert.True(File.Exists(symbols), "no " + symbols);
        using (ZipArchive zip = ZipFile.OpenRead(symbols))
        {
            foreach (string pdb in new[] { "lib/net10.0/SlabGen.pdb", "analyzers/dotnet/cs/SlabGen.Generator.pdb" })
            {
                ZipArchiveEntry entry = zip.GetEntry(pdb) ?? throw new InvalidOperationException("no " + pdb + " in " + symbols);
                // SourceLink: the PDB maps the sources to the repository's files at the packed commit.
                using var copy = new MemoryStream();
                using (Stream s = entry.Open())
                    s.CopyTo(copy);
                copy.Position = 0;
                using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbStream(copy);
                MetadataReader reader = provider.GetMetadataReader();
                string? sourceLink = reader.CustomDebugInformation
                    .Select(h => reader.GetCustomDebugInformation(h))
                    .Where(c => reader.GetGuid(c.Kind) == SourceLinkId)
                    .Select(c => Encoding.UTF8.GetString(reader.GetBlobBytes(c.Value)))
                    .SingleOrDefault();
                Assert.True(sourceLink != null, pdb + " has no SourceLink");
                Assert.Contains("/" + commit + "/*", sourceLink);
            }
        }
    }

    private static XElement Nuspec(ZipArchive zip)
    {
        ZipArchiveEntry entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using Stream stream = entry.Open();
        XElement package = XDocument.Load(stream).Root ?? throw new InvalidOperationException("empty nuspec");
        return package.Element(package.Name.Namespace + "metadata") ?? throw new InvalidOperationException("no <metadata> in the nuspec");
    }

    /// <summary>The first C# block of README.md: what a user pastes first.</summary>
    private static string ReadmeSnippet(string repository)
    {
        string readme = File.ReadAllText(Path.Combine(repository, "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        int start = readme.IndexOf("```csharp\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no C# block");
        start += "```csharp\n".Length;
        return readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
    }

    private static string FeedConfig(params string[] feeds)
        => "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n    <clear />\n"
           + string.Concat(feeds.Select((f, i) => $"    <add key=\"feed{i}\" value=\"{f}\" />\n"))
           + "  </packageSources>\n</configuration>\n";

    private static string ConsumerProject(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="SlabGen" Version="{version}" />
          </ItemGroup>
        </Project>
        """;

    /// <summary>The packages folder the repository restored into: a feed for the tool's own dependencies.</summary>
    private static string GlobalPackagesFolder()
        => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private const string ConsumerProgram = """
        using System;
        using System.Globalization;
        using SlabGen;

        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        unsafe
        {
            Order* order = Order.Alloc();
            order->Id = 42;
            order->Price = 99.5;
            Console.WriteLine($"order {order->Id} {order->Price} flag {order->Flag}");
            Order.Free(order);
            Console.WriteLine($"size {Order.SlabSpec.ObjectSize} {sizeof(Order)} class {Order.SlabSpec.Size}");
        }
        using (SlabRef<Tick> tick = Tick.Rent())
        {
            tick.Value.Seq = 7;
            Console.WriteLine($"tick {tick.Value.Seq}");
        }
        Console.Write(SlabInfo.Read());
        Console.WriteLine("meter " + SlabMetrics.MeterName);

        [SlabCache(Name = "consumer_order", Ctor = nameof(Init))]
        public partial struct Order
        {
            public long Id;
            public double Price;
            public int Flag;
            private static void Init(ref Order o) => o.Flag = 1;
        }

        [SlabCache]
        public partial struct Tick { public int Seq; }
        """;

    private string Run(string workingDirectory, params string[] arguments)
    {
        (int exitCode, string output) = TryRun(workingDirectory, arguments);
        Assert.True(exitCode == 0, "dotnet " + string.Join(" ", arguments) + " exited with " + exitCode + ":\n" + output);
        return output;
    }

    private (int ExitCode, string Output) TryRun(string workingDirectory, params string[] arguments)
        => TryRunProgram("dotnet", arguments, workingDirectory);

    private (int ExitCode, string Output) TryRunProgram(string program, params string[] arguments)
        => TryRunProgram(program, arguments, _root);

    private (int ExitCode, string Output) TryRunProgram(string program, string[] arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        bool isBuild = program == "dotnet" && arguments[0] is "build" or "pack";
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        if (isBuild)
        {
            // Leave no build server or compiler server running behind the test.
            start.ArgumentList.Add("-nodeReuse:false");
            start.ArgumentList.Add("-p:UseSharedCompilation=false");
        }
        // Isolate NuGet: a SlabGen package cached by an earlier run must never be used.
        start.Environment["NUGET_PACKAGES"] = Path.Combine(_root, "packages");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start dotnet");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(StepTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(program + " " + string.Join(" ", arguments) + " took more than " + StepTimeout);
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Metadata(string key)
        => typeof(PackageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
            ?? throw new InvalidOperationException("no assembly metadata " + key);
}
