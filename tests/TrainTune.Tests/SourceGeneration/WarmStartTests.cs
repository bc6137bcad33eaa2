using Microsoft.CodeAnalysis;

namespace TrainTune.Tests.SourceGeneration;

public class WarmStartTests
{
    const string Tuned = """
        {
          "target": "Energy",
          "finished_at": "2026-11-27T09:46:14+00:00",
          "hyperparameters": { "learningRate": 0.0031959600746631622, "momentum": 0.62, "weightDecay": 3.3e-05 }
        }
        """;

    [Fact]
    public async Task Previous_tuned_values_become_the_targets_initial_values_with_an_info_diagnostic()
    {
        var (result, output) = GeneratorHarness.RunWith([("/out/Energy/tuned.json", Tuned)], UserSources.TrainingTargets);

        Assert.Null(result.Exception);
        var info = Assert.Single(result.Diagnostics);
        Assert.Equal("TT0011", info.Id);
        Assert.Equal(DiagnosticSeverity.Info, info.Severity);
        Assert.Contains("'Energy' starts from the values tuned by the previous build, read from '/out/Energy/tuned.json'", info.GetMessage());
        Assert.Contains("learningRate = 0.00319596, momentum = 0.62, weightDecay = 3.3E-05", info.GetMessage());
        Assert.Equal("Energy", UserSources.TrainingTargets.Substring(info.Location.SourceSpan.Start, info.Location.SourceSpan.Length));
        Assert.Empty(await GeneratorHarness.CompilerDiagnostics(output));
        Snapshot.Match("TrainingTargetsWarmStart", GeneratorHarness.GeneratedText(result));
    }

    [Theory]
    [InlineData("{ not json", "expected a string")]
    [InlineData("{ \"hyperparameters\": {} }", "no \"target\" name")]
    [InlineData("{ \"target\": \"Energy\", \"hyperparameters\": { \"learningRate\": \"fast\" } }", "\"learningRate\" is not a finite number")]
    public void An_unreadable_tuned_file_is_a_warning_and_the_targets_keep_their_own_values(string text, string why)
    {
        var (result, _) = GeneratorHarness.RunWith([("/out/Energy/tuned.json", text)], UserSources.TrainingTargets);
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal("TT0012", warning.Id);
        Assert.Contains(why, warning.GetMessage());
        Assert.DoesNotContain("WarmStart:", GeneratorHarness.GeneratedText(result));
    }

    [Fact]
    public void Files_of_other_targets_or_names_are_ignored()
    {
        var (result, _) = GeneratorHarness.RunWith(
            [("/out/Other/tuned.json", Tuned.Replace("Energy", "Other")), ("/out/Energy/notes.json", Tuned)], UserSources.TrainingTargets);
        Assert.Empty(result.Diagnostics);
        Assert.DoesNotContain("WarmStart:", GeneratorHarness.GeneratedText(result));
    }
}
