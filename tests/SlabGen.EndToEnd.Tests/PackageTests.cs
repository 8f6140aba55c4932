using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>
/// Packs the SlabGen package from this checkout into a folder and builds and runs a fresh consumer that references it
/// by PackageReference from that folder only, with its own empty NuGet cache: the runtime must come from lib/ and
/// the generator from analyzers/dotnet/cs, as for a user.
/// </summary>
public class PackageTests : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);
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
    public void PackedPackageGeneratesAndRunsInAFreshConsumer()
    {
        string feed = Path.Combine(_root, "feed");
        string consumer = Path.Combine(_root, "consumer");
        Directory.CreateDirectory(consumer);
        string version = Metadata("PackageVersion");

        Run(Metadata("RepositoryRoot"), "pack", Path.Combine("src", "SlabGen", "SlabGen.csproj"),
            "-c", Metadata("Configuration"), "--no-build", "-o", feed);
        string package = Path.Combine(feed, "SlabGen." + version + ".nupkg");
        Assert.True(File.Exists(package), "no " + package);
        using (var zip = System.IO.Compression.ZipFile.OpenRead(package))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("lib/net10.0/SlabGen.dll", entries);
            Assert.Contains("analyzers/dotnet/cs/SlabGen.Generator.dll", entries);
        }

        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SlabGen" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), ConsumerProgram);

        Run(consumer, "build", "-c", "Release");
        string output = Run(consumer, Path.Combine(consumer, "bin", "Release", "net10.0", "Consumer.dll"));

        Assert.Contains("order 42 99.5 flag 1", output);
        Assert.Contains("size 24 24 class 32", output);
        Assert.Contains("tick 7", output);
        Assert.Contains("\nconsumer_order ", output.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Contains("\ntick ", output.Replace("\r\n", "\n", StringComparison.Ordinal));

        // The analyzer also reports through the package: a struct that is not partial fails the build with SLAB001.
        File.AppendAllText(Path.Combine(consumer, "Program.cs"), "\n[SlabCache] public struct NotPartial { public int A; }\n");
        (int exitCode, string failed) = TryRun(consumer, "build", "-c", "Release", "--no-restore");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("error SLAB001", failed);
    }

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
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        bool isBuild = arguments[0] is "build" or "pack";
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
            throw new TimeoutException("dotnet " + string.Join(" ", arguments) + " took more than " + StepTimeout);
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Metadata(string key)
        => typeof(PackageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
            ?? throw new InvalidOperationException("no assembly metadata " + key);
}
