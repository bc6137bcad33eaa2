using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using TrainTune.Generator.Parsing;

namespace TrainTune.Generator;

/// <summary>
/// [Hyperparameter] fields are non-nullable Tensors that the generated code sets before every
/// use, so the compiler's "non-nullable field is not initialised" warning (CS8618) does not apply.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HyperparameterFieldSuppressor : DiagnosticSuppressor
{
    static readonly SuppressionDescriptor Rule = new("TTS0001", "CS8618",
        "[Hyperparameter] fields are set by the TrainTune-generated code before the rule or model reads them.");

    public override ImmutableArray<SuppressionDescriptor> SupportedSuppressions => [Rule];

    public override void ReportSuppressions(SuppressionAnalysisContext context)
    {
        foreach (var diagnostic in context.ReportedDiagnostics)
        {
            var tree = diagnostic.Location.SourceTree;
            if (tree is null) continue;
            var node = tree.GetRoot(context.CancellationToken).FindNode(diagnostic.Location.SourceSpan);
            var model = context.GetSemanticModel(tree);
            if (node is VariableDeclaratorSyntax declarator)
            {
                if (model.GetDeclaredSymbol(declarator, context.CancellationToken) is IFieldSymbol field && HyperparameterParser.Attribute(field) is not null)
                    context.ReportSuppression(Suppression.Create(Rule, diagnostic));
                continue;
            }
            // Reported at a constructor: the message names the field.
            var type = node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is { } t ? model.GetDeclaredSymbol(t, context.CancellationToken) as INamedTypeSymbol : null;
            if (type is null) continue;
            var message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            var named = HyperparameterParser.Fields(type).Where(f => message.Contains($"'{f.Name}'")).ToList();
            if (named.Count > 0 && named.Count == type.GetMembers().OfType<IFieldSymbol>().Count(f => message.Contains($"'{f.Name}'")))
                context.ReportSuppression(Suppression.Create(Rule, diagnostic));
        }
    }
}
