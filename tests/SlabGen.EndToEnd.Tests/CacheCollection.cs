using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>The generated caches are process-wide, so the tests that count their objects run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CacheCollection
{
    public const string Name = "generated caches";
}
