using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TrainTune.Generator.Diagnostics;
using TrainTune.Generator.Model;

namespace TrainTune.Generator.Parsing;

/// <summary>Where a marked type lives, and whether a partial declaration can be added to it.</summary>
internal static class TypeParser
{
    /// <summary>The type's spec, or null (with a TT0001 diagnostic) when it or an enclosing type is not a partial class.</summary>
    public static TypeSpec? Parse(INamedTypeSymbol type, TypeDeclarationSyntax declaration, string attributeName, List<DiagnosticInfo> diagnostics)
    {
        var problem = type.IsStatic ? " (it is static)"
            : declaration is not ClassDeclarationSyntax ? " (it is not a class)"
            : !IsPartial(declaration) ? ""
            : declaration.Ancestors().OfType<TypeDeclarationSyntax>().FirstOrDefault(t => !IsPartial(t)) is { } outer
                ? $" (its enclosing type '{outer.Identifier.Text}' is not partial)"
                : null;
        if (problem is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, LocationInfo.From(declaration.Identifier), type.Name, attributeName, problem));
            return null;
        }

        var types = declaration.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().Reverse()
            .Select(t => new ContainingTypeSpec(Keyword(t), t.Identifier.Text + (t.TypeParameterList?.ToString() ?? "")))
            .ToEquatableArray();
        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        var hint = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "")
            .Replace('<', '{').Replace('>', '}').Replace(", ", ",");
        return new TypeSpec(ns, types, hint);
    }

    static bool IsPartial(TypeDeclarationSyntax t) => t.Modifiers.Any(SyntaxKind.PartialKeyword);

    static string Keyword(TypeDeclarationSyntax t) => t switch
    {
        RecordDeclarationSyntax r => r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
        _ => t.Keyword.Text,
    };
}
