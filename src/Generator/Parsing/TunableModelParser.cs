using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TrainTune.Generator.Diagnostics;
using TrainTune.Generator.Model;

namespace TrainTune.Generator.Parsing;

/// <summary>Turns a [TunableModel] class into a <see cref="TunableModelSpec"/> and its diagnostics.</summary>
internal static class TunableModelParser
{
    public static ParseResult<TunableModelSpec> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellation)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var type = (INamedTypeSymbol)context.TargetSymbol;
        try
        {
            var typeSpec = TypeParser.Parse(type, (TypeDeclarationSyntax)context.TargetNode, "TunableModel", diagnostics);
            var specs = new List<HyperparameterSpec?>();
            foreach (var field in HyperparameterParser.Fields(type))
            {
                var spec = HyperparameterParser.Parse(field, diagnostics, cancellation);
                if (spec is { PerWeight: true })
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PerWeightOnModel, LocationInfo.From(field.Locations.FirstOrDefault()), field.Name, type.Name));
                    spec = null;
                }
                specs.Add(spec);
            }
            var spec2 = typeSpec is not null && specs.All(s => s is not null)
                ? new TunableModelSpec(typeSpec, specs.Select(s => s!).ToEquatableArray())
                : null;
            return new ParseResult<TunableModelSpec>(spec2, diagnostics.ToEquatableArray());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GeneratorFailure, LocationInfo.From(context.TargetNode), type.Name, e.Message));
            return new ParseResult<TunableModelSpec>(null, diagnostics.ToEquatableArray());
        }
    }
}
