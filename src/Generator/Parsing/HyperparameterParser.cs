using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TrainTune.Generator.Diagnostics;
using TrainTune.Generator.Model;

namespace TrainTune.Generator.Parsing;

/// <summary>Reads the [Hyperparameter] fields of a type and checks their values at compile time.</summary>
internal static class HyperparameterParser
{
    /// <summary>The [Hyperparameter] fields of <paramref name="type"/>, in declaration order.</summary>
    public static IEnumerable<IFieldSymbol> Fields(INamedTypeSymbol type) =>
        type.GetMembers().OfType<IFieldSymbol>().Where(f => Attribute(f) is not null);

    public static AttributeData? Attribute(IFieldSymbol field) =>
        field.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == KnownNames.HyperparameterAttribute);

    public static bool IsTensor(ITypeSymbol type) =>
        type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString() == KnownNames.Tensor;

    /// <summary>The field's spec, or null with diagnostics when it cannot be used.</summary>
    public static HyperparameterSpec? Parse(IFieldSymbol field, List<DiagnosticInfo> diagnostics, System.Threading.CancellationToken cancellation)
    {
        var attribute = Attribute(field)!;
        var declarator = field.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellation);
        var attributeLocation = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(cancellation)) ?? LocationInfo.From(declarator);
        if (!IsTensor(field.Type))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotTensor, LocationInfo.From(declarator), field.Name, field.Type.ToDisplayString()));
            return null;
        }

        double initial = 0, min = double.NegativeInfinity, max = double.PositiveInfinity;
        var transform = "Identity";
        var perWeight = false;
        foreach (var argument in attribute.NamedArguments)
        {
            var value = argument.Value;
            if (value.Kind == TypedConstantKind.Error || value.Value is null) return null; // the compiler reports it
            switch (argument.Key)
            {
                case "Initial": initial = Convert.ToDouble(value.Value, CultureInfo.InvariantCulture); break;
                case "Min": min = Convert.ToDouble(value.Value, CultureInfo.InvariantCulture); break;
                case "Max": max = Convert.ToDouble(value.Value, CultureInfo.InvariantCulture); break;
                case "PerWeight": perWeight = value.Value is true; break;
                case "Transform":
                    var name = value.Type?.GetMembers().OfType<IFieldSymbol>()
                        .FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value.Value))?.Name;
                    if (name is null)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadInitialValue, attributeLocation, field.Name,
                            $"Transform = {value.Value} is not a Transform; use Transform.Identity, Transform.Log10 or Transform.Logit"));
                        return null;
                    }
                    transform = name;
                    break;
            }
        }

        if (ValueProblem(transform, initial, min, max) is { } problem)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadInitialValue, attributeLocation, field.Name, problem));
            return null;
        }
        return new HyperparameterSpec(field.Name, Summary(declarator), transform, initial, min, max, perWeight);
    }

    /// <summary>What is wrong with the values, in words, or null (the runtime applies the same rules).</summary>
    internal static string? ValueProblem(string transform, double initial, double min, double max) =>
        TrainTune.Hosting.HyperparameterValueRules.Problem(transform, initial,
            double.IsInfinity(min) ? null : min, double.IsInfinity(max) ? null : max);

    /// <summary>The field's doc comment summary as one line of text ("" when it has none).</summary>
    static string Summary(SyntaxNode? declarator)
    {
        var field = declarator?.FirstAncestorOrSelf<FieldDeclarationSyntax>();
        if (field is null) return "";
        var lines = field.GetLeadingTrivia()
            .Where(t => t.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) || t.IsKind(SyntaxKind.SingleLineCommentTrivia))
            .SelectMany(t => t.ToFullString().Split('\n'))
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("///", StringComparison.Ordinal))
            .Select(l => l.Substring(3).Trim());
        var text = string.Join(" ", lines);
        var summary = Regex.Match(text, "<summary>(.*?)</summary>", RegexOptions.Singleline);
        if (summary.Success) text = summary.Groups[1].Value;
        else if (text.Contains("<")) text = Regex.Replace(text, "<[^>]*>.*?</[^>]*>", "");
        text = Regex.Replace(text, "<[^>]+>", "");
        return Regex.Replace(text, "\\s+", " ").Trim();
    }
}
