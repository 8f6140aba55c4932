using System.Linq;
using Microsoft.CodeAnalysis;
using SlabGen.Generator.Model;

namespace SlabGen.Generator.Diagnostics;

/// <summary>A diagnostic carried through the pipeline as data and turned into a <see cref="Diagnostic"/> when reported.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> MessageArgs)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] messageArgs)
        => new(descriptor.Id, location, new EquatableArray<string>(messageArgs));

    public Diagnostic ToDiagnostic()
        => Diagnostic.Create(
            DiagnosticDescriptors.ById(Id),
            Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None,
            MessageArgs.Cast<object>().ToArray());
}
