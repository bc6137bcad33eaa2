using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TrainTune.Generator.Diagnostics;
using TrainTune.Generator.Emit;
using TrainTune.Generator.Model;
using TrainTune.Generator.Parsing;

namespace TrainTune.Generator;

/// <summary>
/// Finds [WeightUpdate] rules, [TunableModel] models and [TrainingTarget] methods, parses each
/// into an equatable spec with its diagnostics, and emits their implementations.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TrainTuneGenerator : IIncrementalGenerator
{
    public static class TrackingNames
    {
        public const string WeightUpdates = nameof(WeightUpdates);
        public const string TunableModels = nameof(TunableModels);
        public const string TrainingTargets = nameof(TrainingTargets);
        public const string TrainingTargetRegistry = nameof(TrainingTargetRegistry);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var rules = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.WeightUpdateAttribute, static (node, _) => node is TypeDeclarationSyntax, WeightUpdateParser.Parse)
            .WithTrackingName(TrackingNames.WeightUpdates);
        context.RegisterSourceOutput(rules, static (output, result) =>
            Report(output, result, spec => (spec.Type.HintName, WeightUpdateEmitter.Emit(spec))));

        var models = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.TunableModelAttribute, static (node, _) => node is TypeDeclarationSyntax, TunableModelParser.Parse)
            .WithTrackingName(TrackingNames.TunableModels);
        context.RegisterSourceOutput(models, static (output, result) =>
            Report(output, result, spec => (spec.Type.HintName, TunableModelEmitter.Emit(spec))));

        var targets = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.TrainingTargetAttribute, static (node, _) => node is MethodDeclarationSyntax, TrainingTargetParser.Parse)
            .WithTrackingName(TrackingNames.TrainingTargets)
            .Collect()
            .WithTrackingName(TrackingNames.TrainingTargetRegistry);
        context.RegisterSourceOutput(targets, static (output, results) => EmitRegistry(output, results));
    }

    static void Report<T>(SourceProductionContext output, ParseResult<T> result, System.Func<T, (string Hint, string Source)> emit) where T : class
    {
        foreach (var diagnostic in result.Diagnostics) output.ReportDiagnostic(diagnostic.ToDiagnostic());
        if (result.Spec is null) return;
        var (hint, source) = emit(result.Spec);
        output.AddSource(hint + ".g.cs", source);
    }

    static void EmitRegistry(SourceProductionContext output, ImmutableArray<ParseResult<TrainingTargetSpec>> results)
    {
        foreach (var diagnostic in results.SelectMany(r => r.Diagnostics)) output.ReportDiagnostic(diagnostic.ToDiagnostic());
        var targets = results.Where(r => r.Spec is not null).Select(r => r.Spec!).ToImmutableArray();
        var duplicates = targets.GroupBy(t => t.Name).Where(g => g.Count() > 1).ToList();
        foreach (var group in duplicates)
            foreach (var target in group)
                output.ReportDiagnostic(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateTrainingTarget, target.Location,
                    group.Key, string.Join(" and ", group.Select(t => t.DisplayMethod))).ToDiagnostic());
        if (targets.IsEmpty || duplicates.Count > 0) return;
        output.AddSource("TrainTune.TrainingTargetRegistry.g.cs", TrainingTargetEmitter.Emit(targets));
    }
}
