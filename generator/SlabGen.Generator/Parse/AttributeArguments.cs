using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SlabGen.Generator.Diagnostics;

namespace SlabGen.Generator.Parse;

/// <summary>The named arguments of one <c>[SlabCache(...)]</c> and where each is written, for precise diagnostics.</summary>
internal sealed class AttributeArguments
{
    public string? Name { get; private set; }
    public int Align { get; private set; }
    public SlabFlags Flags { get; private set; }
    public string? Ctor { get; private set; }
    public int Limit { get; private set; }
    public int BatchCount { get; private set; }
    public int SharedFactor { get; private set; }

    public LocationInfo? NameLocation { get; private set; }
    public LocationInfo? AlignLocation { get; private set; }
    public LocationInfo? FlagsLocation { get; private set; }
    public LocationInfo? CtorLocation { get; private set; }
    public LocationInfo? LimitLocation { get; private set; }
    public LocationInfo? BatchCountLocation { get; private set; }
    public LocationInfo? SharedFactorLocation { get; private set; }

    /// <summary>Reads the arguments; one the compiler could not bind (an error already) keeps its default.</summary>
    public static AttributeArguments Read(AttributeData attribute, CancellationToken cancellationToken)
    {
        var result = new AttributeArguments();
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        LocationInfo? whole = LocationInfo.From(syntax);
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            if (argument.Value.Kind == TypedConstantKind.Error)
                continue;
            object? value = argument.Value.Value;
            LocationInfo? at = LocationInfo.From(ArgumentSyntax(syntax, argument.Key)) ?? whole;
            switch (argument.Key)
            {
                case "Name":
                    result.Name = value as string;
                    result.NameLocation = at;
                    break;
                case "Align" when value is int align:
                    result.Align = align;
                    result.AlignLocation = at;
                    break;
                case "Flags" when value is int flags:
                    result.Flags = (SlabFlags)flags;
                    result.FlagsLocation = at;
                    break;
                case "Ctor":
                    result.Ctor = value as string;
                    result.CtorLocation = at;
                    break;
                case "Limit" when value is int limit:
                    result.Limit = limit;
                    result.LimitLocation = at;
                    break;
                case "BatchCount" when value is int batchCount:
                    result.BatchCount = batchCount;
                    result.BatchCountLocation = at;
                    break;
                case "SharedFactor" when value is int sharedFactor:
                    result.SharedFactor = sharedFactor;
                    result.SharedFactorLocation = at;
                    break;
            }
        }
        result.AlignLocation ??= whole;
        result.FlagsLocation ??= whole;
        result.LimitLocation ??= whole;
        result.BatchCountLocation ??= whole;
        result.SharedFactorLocation ??= whole;
        return result;
    }

    /// <summary>The <c>Name = value</c> argument's value expression.</summary>
    private static SyntaxNode? ArgumentSyntax(AttributeSyntax? attribute, string name)
    {
        if (attribute?.ArgumentList is null)
            return null;
        foreach (AttributeArgumentSyntax argument in attribute.ArgumentList.Arguments)
        {
            if (argument.NameEquals?.Name.Identifier.ValueText == name)
                return argument.Expression;
        }
        return null;
    }
}
