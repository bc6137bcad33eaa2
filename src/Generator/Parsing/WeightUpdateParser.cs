using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TrainTune.Generator.Diagnostics;
using TrainTune.Generator.Model;

namespace TrainTune.Generator.Parsing;

/// <summary>Turns a [WeightUpdate] class into a <see cref="WeightUpdateSpec"/> and its diagnostics.</summary>
internal static class WeightUpdateParser
{
    public static ParseResult<WeightUpdateSpec> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellation)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var type = (INamedTypeSymbol)context.TargetSymbol;
        try
        {
            var typeSpec = TypeParser.Parse(type, (TypeDeclarationSyntax)context.TargetNode, "WeightUpdate", diagnostics);
            var fields = HyperparameterParser.Fields(type).ToList();
            var specs = fields.Select(f => HyperparameterParser.Parse(f, diagnostics, cancellation)).ToList();
            var method = RuleMethod(type, (TypeDeclarationSyntax)context.TargetNode, diagnostics, cancellation);
            if (method is not null && method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellation) is MethodDeclarationSyntax syntax)
            {
                var model = context.SemanticModel.Compilation.GetSemanticModel(syntax.SyntaxTree);
                RuleBodyChecks.Check(syntax, model, fields.Where(f => HyperparameterParser.IsTensor(f.Type)).ToList(),
                    $"{type.Name}.{method.Name}", reportUnused: true, diagnostics, cancellation);
            }
            var valid = typeSpec is not null && method is not null && specs.All(s => s is not null)
                && diagnostics.All(d => DiagnosticDescriptors.ById(d.DescriptorId).DefaultSeverity != DiagnosticSeverity.Error);
            var spec = valid
                ? new WeightUpdateSpec(typeSpec!, specs.Select(s => s!).ToEquatableArray(), method!.Name,
                    method.Parameters.Skip(2).Select(p => p.Name).ToEquatableArray())
                : null;
            return new ParseResult<WeightUpdateSpec>(spec, diagnostics.ToEquatableArray());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GeneratorFailure, LocationInfo.From(context.TargetNode), type.Name, e.Message));
            return new ParseResult<WeightUpdateSpec>(null, diagnostics.ToEquatableArray());
        }
    }

    /// <summary>The one valid rule method, or null with a TT0003 diagnostic.</summary>
    static IMethodSymbol? RuleMethod(INamedTypeSymbol type, TypeDeclarationSyntax declaration, List<DiagnosticInfo> diagnostics, CancellationToken cancellation)
    {
        var candidates = type.GetMembers(KnownNames.RuleMethod).OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        if (candidates.Count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadRuleMethod, LocationInfo.From(declaration.Identifier),
                $"'{type.Name}' has no method named '{KnownNames.RuleMethod}'"));
            return null;
        }
        if (candidates.Count > 1)
        {
            foreach (var candidate in candidates)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadRuleMethod, LocationInfo.From(candidate.Locations.FirstOrDefault()),
                    $"'{type.Name}' has {candidates.Count} methods named '{KnownNames.RuleMethod}', so the rule is ambiguous"));
            return null;
        }
        var method = candidates[0];
        var problem = method.IsStatic ? "it is static"
            : method.IsGenericMethod ? "it is generic"
            : !HyperparameterParser.IsTensor(method.ReturnType) ? $"it returns '{method.ReturnType.ToDisplayString()}' instead of Tensor"
            : method.Parameters.Length < 2 ? $"it has {method.Parameters.Length} parameter(s) instead of (Tensor weight, Tensor grad, ...)"
            : method.Parameters.Take(2).Any(p => p.RefKind != RefKind.None || !HyperparameterParser.IsTensor(p.Type)) ? "its first two parameters must be 'Tensor weight, Tensor grad' passed by value"
            : method.Parameters.Skip(2).FirstOrDefault(p => p.RefKind != RefKind.Ref || !HyperparameterParser.IsTensor(p.Type)) is { } bad
                ? $"its parameter '{bad.Name}' is not a 'ref Tensor?' state parameter"
            : null;
        if (problem is null) return method;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadRuleMethod, LocationInfo.From(method.Locations.FirstOrDefault()),
            $"'{type.Name}.{method.Name}' has a wrong signature: {problem}"));
        return null;
    }
}
