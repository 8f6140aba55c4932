using System;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// The JIT's tiering delay in a quick run. The runtime starts counting a Tier-0 method's calls towards its Tier-1
/// compile only once 100 ms pass without a new Tier-0 compile (<c>TC_CallCountingDelayMs</c>). A quick run has 3
/// warm-up iterations of 100 ms, and a scenario that is the first to reach some of SlabGen's slow paths ran them on
/// Tier-0 code for about a second: the first SlabGen row of the 100,000-object batch took about 140 ns per object in
/// its warm-up and first three measured iterations and 29-39 ns in the last three. With the delay at 0 the counting
/// starts at once and every row is measured on Tier-1 code, as the full job's longer warm-up gets it. Only a process
/// start can set it, so a quick run in this process under the JIT restarts itself with <see cref="Setting"/>
/// (<see cref="Restart"/>); one process per benchmark, the full job and Native AOT leave the runtime's default.
/// </summary>
public static class QuickTiering
{
    public const string Variable = "DOTNET_TC_CallCountingDelayMs";
    public const string Value = "0";

    public static string Setting => $"{Variable}={Value}";

    /// <summary>True when this process was started with no tiering delay.</summary>
    public static bool IsSet => Environment.GetEnvironmentVariable(Variable) == Value;
}
