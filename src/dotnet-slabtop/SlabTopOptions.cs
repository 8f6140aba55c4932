using System;
using System.Globalization;
using System.Text;

namespace SlabTop;

/// <summary>The command line, as slabtop's: <c>-d</c>, <c>-s</c>, <c>-o</c>, plus the process to attach to.</summary>
internal sealed record SlabTopOptions(int ProcessId, TimeSpan Delay, char Sort, bool Once, TimeSpan Timeout, bool Help, bool Version)
{
    public static string Usage
    {
        get
        {
            var text = new StringBuilder();
            text.Append("""
                Usage:
                 dotnet-slabtop -p <pid> [options]

                Shows a .NET process's SlabGen slab caches as slabtop shows the kernel's, read over EventPipe from
                the process's SlabGen meter.

                Options:
                 -p, --process-id <pid>  the process to attach to
                 -d, --delay <secs>      delay between updates (default 3)
                 -o, --once              print one snapshot as plain text and exit
                 -s, --sort <char>       sort criteria by character (see below)
                     --timeout <secs>    with --once: how long to wait for the first snapshot (default 15)
                 -h, --help              display this help and exit
                 -V, --version           output version information and exit

                The following are valid sort criteria:

                """.Replace("\r\n", "\n", StringComparison.Ordinal));
            foreach ((char key, string description) in SortKey.All)
                text.Append(' ').Append(key).Append(": sort by ").Append(description).Append('\n');
            return text.ToString();
        }
    }

    /// <exception cref="FormatException">An unknown option, a missing or bad value, or no process id.</exception>
    public static SlabTopOptions Parse(string[] args)
    {
        int pid = 0;
        double delay = 3, timeout = 15;
        char sort = SortKey.Default;
        bool once = false, help = false, version = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? inline = null;
            int eq = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=', StringComparison.Ordinal) : -1;
            if (eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }
            string Value() => inline ?? (i + 1 < args.Length ? args[++i] : throw new FormatException($"dotnet-slabtop: option '{arg}' needs a value."));
            switch (arg)
            {
                case "-p" or "--process-id":
                    string p = Value();
                    if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out pid) || pid <= 0)
                        throw new FormatException($"dotnet-slabtop: '{p}' is not a process id.");
                    break;
                case "-d" or "--delay":
                    string d = Value();
                    if (!double.TryParse(d, NumberStyles.Float, CultureInfo.InvariantCulture, out delay) || !(delay >= 0.1) || delay > 3600)
                        throw new FormatException($"dotnet-slabtop: delay '{d}' must be a number of seconds from 0.1 to 3600.");
                    break;
                case "--timeout":
                    string t = Value();
                    if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out timeout) || !(timeout >= 1) || timeout > 3600)
                        throw new FormatException($"dotnet-slabtop: timeout '{t}' must be a number of seconds from 1 to 3600.");
                    break;
                case "-s" or "--sort":
                    string s = Value();
                    if (s.Length != 1 || !SortKey.IsValid(s[0]))
                        throw new FormatException($"dotnet-slabtop: '{s}' is not a sort criterion; one of: a b c l v n o p s u.");
                    sort = s[0];
                    break;
                case "-o" or "--once":
                    once = true;
                    break;
                case "-h" or "--help":
                    help = true;
                    break;
                case "-V" or "--version":
                    version = true;
                    break;
                default:
                    throw new FormatException($"dotnet-slabtop: unknown option '{args[i]}'.");
            }
        }
        if (pid == 0 && !help && !version)
            throw new FormatException("dotnet-slabtop: which process? Give its id with -p <pid> (dotnet-counters ps lists them).");
        return new SlabTopOptions(pid, TimeSpan.FromSeconds(delay), sort, once, TimeSpan.FromSeconds(timeout), help, version);
    }
}
