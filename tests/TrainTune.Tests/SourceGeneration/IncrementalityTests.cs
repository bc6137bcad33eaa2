using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TrainTune.Generator;

namespace TrainTune.Tests.SourceGeneration;

public class IncrementalityTests
{
    // The parse steps read the semantic model, so Roslyn re-runs them on a new compilation;
    // they must then produce equal results (Unchanged), which keeps every later step Cached.
    static readonly string[] ParseSteps =
    [
        TrainTuneGenerator.TrackingNames.WeightUpdateParse,
        TrainTuneGenerator.TrackingNames.TunableModelParse,
        TrainTuneGenerator.TrackingNames.TrainingTargetParse,
    ];

    static readonly string[] CachedSteps =
    [
        TrainTuneGenerator.TrackingNames.WeightUpdates,
        TrainTuneGenerator.TrackingNames.WeightUpdateDiagnostics,
        TrainTuneGenerator.TrackingNames.TunableModels,
        TrainTuneGenerator.TrackingNames.TunableModelDiagnostics,
        TrainTuneGenerator.TrackingNames.TrainingTargetRegistry,
    ];

    [Fact]
    public void An_unrelated_edit_leaves_every_tracked_step_cached()
    {
        var compilation = GeneratorHarness.Compile([.. UserSources.Valid.Values, "namespace Samples; public static class Unrelated { public static int Value => 1; }"]);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);

        var unrelated = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(unrelated,
            CSharpSyntaxTree.ParseText("namespace Samples; public static class Unrelated { public static int Value => 2; }", GeneratorHarness.ParseOptions, unrelated.FilePath));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        List<IncrementalStepRunReason> Reasons(string name)
        {
            Assert.True(result.TrackedSteps.TryGetValue(name, out var steps), $"step {name} was not tracked");
            var reasons = steps.SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.NotEmpty(reasons);
            return reasons;
        }
        foreach (var name in ParseSteps)
            Assert.All(Reasons(name), reason => Assert.Contains(reason, new[] { IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached }));
        foreach (var name in CachedSteps)
            Assert.All(Reasons(name), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_a_rule_regenerates_it()
    {
        var compilation = GeneratorHarness.Compile(UserSources.ScalarRule);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(UserSources.ScalarRule.Replace("Initial = 1e-3", "Initial = 2e-3"), GeneratorHarness.ParseOptions, tree.FilePath));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        var reasons = result.TrackedSteps[TrainTuneGenerator.TrackingNames.WeightUpdateParse].SelectMany(s => s.Outputs).Select(o => o.Reason);
        Assert.Contains(IncrementalStepRunReason.Modified, reasons);
        Assert.Contains("0.002", result.GeneratedSources.Single().SourceText.ToString());
    }
}
