extern alias SlabGenRuntime;

using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using SlabGen.Generator.Diagnostics;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>The generator's contracts with the runtime assembly and with the docs.</summary>
public class AttributeAndDocsTests
{
    [Fact]
    public void The_attribute_metadata_name_is_the_runtime_attribute()
        => Assert.Equal(SlabCacheGenerator.AttributeMetadataName, typeof(SlabGenRuntime::SlabGen.SlabCacheAttribute).FullName);

    [Fact]
    public void Every_diagnostic_has_an_anchor_in_the_docs_and_a_row_in_the_release_file()
    {
        string docs = File.ReadAllText(Path.Combine(TestCompilation.RepositoryRoot, "docs", "diagnostics.md"));
        string releases = File.ReadAllText(Path.Combine(TestCompilation.RepositoryRoot, "generator", "SlabGen.Generator", "AnalyzerReleases.Unshipped.md"));
        Assert.Equal(DiagnosticDescriptors.All.Length, DiagnosticDescriptors.All.Select(d => d.Id).Distinct().Count());
        foreach (DiagnosticDescriptor descriptor in DiagnosticDescriptors.All)
        {
            Assert.Contains("<a id=\"" + descriptor.Id.ToLowerInvariant() + "\"></a>", docs);
            Assert.Contains(descriptor.Id + " | SlabGen | Error |", releases);
            Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
            Assert.EndsWith("docs/diagnostics.md#" + descriptor.Id.ToLowerInvariant(), descriptor.HelpLinkUri);
        }
    }
}
