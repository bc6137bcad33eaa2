using TrainTune.Hosting;
using TrainTune.Tests.Training;

namespace TrainTune.Tests.Targets;

/// <summary>A warm start reads the target's tuned.json at run time, through the type the report writes it with.</summary>
public class WarmStartTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-warm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    const string Tuned = """
        {
          "target": "Energy",
          "finished_at": "2026-11-27T09:46:14+00:00",
          "hyperparameters": { "learningRate": 0.0031959600746631622, "momentum": 0.62, "weightDecay": 3.3e-05 }
        }
        """;

    [Fact]
    public void The_values_of_the_targets_tuned_file_are_read_and_described()
    {
        File.WriteAllText(Path.Combine(_folder, "tuned.json"), Tuned);
        var tuned = TunedFile.ReadFor(_folder, "Energy", out var problem);
        Assert.Null(problem);
        Assert.NotNull(tuned);
        Assert.Equal(0.0031959600746631622, tuned.Hyperparameters["learningRate"]);
        Assert.Equal("learningRate = 0.00319596, momentum = 0.62, weightDecay = 3.3E-05", tuned.Describe());
    }

    [Fact]
    public void What_the_report_writes_is_what_a_warm_start_reads()
    {
        var written = new TunedFile("Energy", "2026-11-30T20:00:00Z", new Dictionary<string, double> { ["learningRate"] = 0.02, ["momentum"] = 0.5 });
        written.Write(Path.Combine(_folder, "tuned.json"));
        var read = TunedFile.ReadFor(_folder, "Energy", out _);
        Assert.Equal(written.Hyperparameters, read!.Hyperparameters);
    }

    [Theory]
    [InlineData("{ not json", "cannot be used for a warm start")]
    [InlineData("{ \"target\": \"Energy\" }", "no \"hyperparameters\" object")]
    [InlineData("{ \"target\": \"Other\", \"hyperparameters\": { \"learningRate\": 0.1 } }", "belongs to target 'Other', not 'Energy'")]
    [InlineData("{ \"target\": \"Energy\", \"hyperparameters\": { \"learningRate\": \"NaN\" } }", "\"learningRate\" is not a finite number")]
    public void A_tuned_file_that_cannot_be_used_says_why_and_the_target_keeps_its_own_values(string text, string why)
    {
        File.WriteAllText(Path.Combine(_folder, "tuned.json"), text);
        Assert.Null(TunedFile.ReadFor(_folder, "Energy", out var problem));
        Assert.Contains(why, problem);
        Assert.EndsWith("the target starts from its own values.", problem);
    }

    [Fact]
    public void The_host_starts_a_warm_started_run_from_the_tuned_values_and_a_cold_one_from_its_own()
    {
        File.WriteAllText(Path.Combine(_folder, "tuned.json"), Tuned);
        var run = TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression());
        var target = new TrainingTarget("Energy", "Tests.Energy", () => run);
        var warm = TargetRunner.Prepare(new HostRunRequest("a.dll", "Energy", _folder, new RunKnobs(WarmStart: true)), target, run, null, null);
        Assert.Equal(0.62, warm.InitialValues!["momentum"]);
        var cold = TargetRunner.Prepare(new HostRunRequest("a.dll", "Energy", _folder), target, run, null, null);
        Assert.Null(cold.InitialValues);
    }
}
