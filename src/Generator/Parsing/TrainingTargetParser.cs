using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using TrainTune.Generator.Diagnostics;
using TrainTune.Generator.Model;

namespace TrainTune.Generator.Parsing;

/// <summary>Turns a [TrainingTarget] method into a <see cref="TrainingTargetSpec"/>, checking its signature.</summary>
internal static class TrainingTargetParser
{
    public static ParseResult<TrainingTargetSpec> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellation)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var method = (IMethodSymbol)context.TargetSymbol;
        try
        {
            var attribute = context.Attributes.FirstOrDefault();
            var name = attribute?.NamedArguments.FirstOrDefault(a => a.Key == "Name").Value.Value as string;
            name = string.IsNullOrWhiteSpace(name) ? method.Name : name!.Trim();
            var location = LocationInfo.From(method.Locations.FirstOrDefault());
            var problem = !method.IsStatic ? "is not static"
                : method.Parameters.Length > 0 ? "has parameters"
                : method.IsGenericMethod ? "is generic"
                : method.ReturnType.ToDisplayString() != KnownNames.TuningRun ? $"returns '{method.ReturnType.ToDisplayString()}' instead of TuningRun"
                : !Accessible(method) ? "is not reachable from the rest of its assembly (it or an enclosing type is private or protected)"
                : null;
            if (problem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadTrainingTarget, location, name, problem));
                return new ParseResult<TrainingTargetSpec>(null, diagnostics.ToEquatableArray());
            }
            var containing = method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            var display = $"{method.ContainingType.ToDisplayString()}.{method.Name}";
            return new ParseResult<TrainingTargetSpec>(new TrainingTargetSpec(name, display, $"{containing}.{method.Name}()", location), diagnostics.ToEquatableArray());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GeneratorFailure, LocationInfo.From(context.TargetNode), method.Name, e.Message));
            return new ParseResult<TrainingTargetSpec>(null, diagnostics.ToEquatableArray());
        }
    }

    static bool Accessible(ISymbol symbol)
    {
        for (var s = symbol; s is not null and not INamespaceSymbol; s = s.ContainingSymbol)
            if (s.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)) return false;
        return true;
    }
}
