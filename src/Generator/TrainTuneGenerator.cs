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
    /// <summary>
    /// Step names for tests. The *Parse steps read the semantic model, so they re-run on every
    /// compilation; their equatable results keep every later step cached when nothing changed.
    /// </summary>
    public static class TrackingNames
    {
        public const string WeightUpdateParse = nameof(WeightUpdateParse);
        public const string WeightUpdates = nameof(WeightUpdates);
        public const string WeightUpdateDiagnostics = nameof(WeightUpdateDiagnostics);
        public const string TunableModelParse = nameof(TunableModelParse);
        public const string TunableModels = nameof(TunableModels);
        public const string TunableModelDiagnostics = nameof(TunableModelDiagnostics);
        public const string TrainingTargetParse = nameof(TrainingTargetParse);
        public const string TrainingTargetRegistry = nameof(TrainingTargetRegistry);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var rules = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.WeightUpdateAttribute, static (node, _) => node is TypeDeclarationSyntax, WeightUpdateParser.Parse)
            .WithTrackingName(TrackingNames.WeightUpdateParse);
        ReportDiagnostics(context, rules.Select(static (r, _) => r.Diagnostics).WithTrackingName(TrackingNames.WeightUpdateDiagnostics));
        var ruleSpecs = rules.Where(static r => r.Spec is not null).Select(static (r, _) => r.Spec!).WithTrackingName(TrackingNames.WeightUpdates);
        context.RegisterSourceOutput(ruleSpecs, static (output, spec) => output.AddSource(spec.Type.HintName + ".g.cs", WeightUpdateEmitter.Emit(spec)));

        var models = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.TunableModelAttribute, static (node, _) => node is TypeDeclarationSyntax, TunableModelParser.Parse)
            .WithTrackingName(TrackingNames.TunableModelParse);
        ReportDiagnostics(context, models.Select(static (r, _) => r.Diagnostics).WithTrackingName(TrackingNames.TunableModelDiagnostics));
        var modelSpecs = models.Where(static r => r.Spec is not null).Select(static (r, _) => r.Spec!).WithTrackingName(TrackingNames.TunableModels);
        context.RegisterSourceOutput(modelSpecs, static (output, spec) => output.AddSource(spec.Type.HintName + ".g.cs", TunableModelEmitter.Emit(spec)));

        var targets = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.TrainingTargetAttribute, static (node, _) => node is MethodDeclarationSyntax, TrainingTargetParser.Parse)
            .WithTrackingName(TrackingNames.TrainingTargetParse)
            .Collect()
            .WithTrackingName(TrackingNames.TrainingTargetRegistry);
        context.RegisterSourceOutput(targets, static (output, results) => EmitRegistry(output, results));
    }

    static void ReportDiagnostics(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics) =>
        context.RegisterSourceOutput(diagnostics, static (output, items) =>
        {
            foreach (var diagnostic in items) output.ReportDiagnostic(diagnostic.ToDiagnostic());
        });

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
