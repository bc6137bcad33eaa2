using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TrainTune.Generator.Diagnostics;
using TrainTune.Generator.Model;

namespace TrainTune.Generator.Parsing;

/// <summary>
/// Checks a rule method's body: in-place tensor operations (TT0006), hyperparameters used
/// where no gradient can flow (TT0005), and hyperparameters never read (TT0007).
/// </summary>
internal static class RuleBodyChecks
{
    // Members that leave the autograd graph when called on a tensor.
    static readonly HashSet<string> GraphExits =
    [
        "item", "ToDouble", "ToSingle", "ToInt32", "ToInt64", "ToInt16", "ToBoolean", "ToByte", "ToHalf", "ToScalar",
        "detach", "detach_", "data", "numpy", "tolist", "ToArray",
    ];

    public static void Check(MethodDeclarationSyntax method, SemanticModel model, IReadOnlyList<IFieldSymbol> hyperparameters,
        string ruleName, bool reportUnused, List<DiagnosticInfo> diagnostics, System.Threading.CancellationToken cancellation)
    {
        var body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        if (body is null) return;

        foreach (var invocation in body.DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            if (model.GetSymbolInfo(invocation, cancellation).Symbol is not IMethodSymbol called) continue;
            var name = called.Name;
            if (name.Length > 1 && name.EndsWith("_") && !name.StartsWith("_") && IsTorchSharp(called))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InPlaceOperation, LocationInfo.From(invocation), name, name.TrimEnd('_')));
        }

        var read = new HashSet<string>();
        foreach (var identifier in body.DescendantNodes().OfType<IdentifierNameSyntax>())
        {
            if (model.GetSymbolInfo(identifier, cancellation).Symbol is not IFieldSymbol field) continue;
            if (!hyperparameters.Any(h => SymbolEqualityComparer.Default.Equals(h, field))) continue;
            read.Add(field.Name);
            if (NoGradientUse(identifier) is { } use)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoGradient, LocationInfo.From(use.Node), field.Name, use.What));
        }

        if (!reportUnused) return;
        foreach (var field in hyperparameters.Where(h => !read.Contains(h.Name)))
        {
            var location = LocationInfo.From(field.Locations.FirstOrDefault());
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnusedHyperparameter, location, field.Name, ruleName));
        }
    }

    static bool IsTorchSharp(IMethodSymbol method) =>
        method.ContainingNamespace?.ToDisplayString().StartsWith("TorchSharp") == true;

    /// <summary>The enclosing expression that cuts the graph, with a description, or null.</summary>
    static (SyntaxNode Node, string What)? NoGradientUse(IdentifierNameSyntax identifier)
    {
        // Climb the receiver chain: field.cpu().item<double>() is a graph exit at "item".
        SyntaxNode current = identifier;
        if (current.Parent is MemberAccessExpressionSyntax qualified && qualified.Name == identifier) current = qualified; // this.field
        while (current.Parent is MemberAccessExpressionSyntax access && access.Expression == current)
        {
            var member = access.Name.Identifier.Text;
            if (GraphExits.Contains(member))
                return (access.Parent is InvocationExpressionSyntax call ? call : access, $"'.{member}'");
            current = access.Parent is InvocationExpressionSyntax invocation && invocation.Expression == access ? invocation : access;
        }

        foreach (var ancestor in identifier.Ancestors())
        {
            switch (ancestor)
            {
                case CastExpressionSyntax cast when cast.Expression.Span.Contains(identifier.Span):
                    return (cast, $"a cast to '{cast.Type}'");
                case IfStatementSyntax s when s.Condition.Span.Contains(identifier.Span):
                    return (s.Condition, "the condition of an if statement");
                case WhileStatementSyntax s when s.Condition.Span.Contains(identifier.Span):
                    return (s.Condition, "the condition of a while loop");
                case DoStatementSyntax s when s.Condition.Span.Contains(identifier.Span):
                    return (s.Condition, "the condition of a do loop");
                case ForStatementSyntax { Condition: { } condition } when condition.Span.Contains(identifier.Span):
                    return (condition, "the condition of a for loop");
                case ConditionalExpressionSyntax c when c.Condition.Span.Contains(identifier.Span):
                    return (c.Condition, "the condition of a ?: expression");
                case SwitchStatementSyntax s when s.Expression.Span.Contains(identifier.Span):
                    return (s.Expression, "a switch");
                case SwitchExpressionSyntax s when s.GoverningExpression.Span.Contains(identifier.Span):
                    return (s.GoverningExpression, "a switch");
                case StatementSyntax:
                    return null;
            }
        }
        return null;
    }
}
