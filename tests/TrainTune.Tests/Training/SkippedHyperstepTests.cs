extern alias build;
using build::TrainTune.Build.Running;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>
/// A SGD whose second hyperparameter s = 1 enters its update as √(s − 1), which is 0 but whose
/// derivative is infinite: every hyper step's hypergradient of <c>scale</c> is not finite, that
/// of the learning rate is.
/// </summary>
[WeightUpdate]
public partial class SgdWithBrokenScale
{
#pragma warning disable IDE1006, IDE0044 // [Hyperparameter] fields are named as the hyperparameters they declare, and the generated code assigns them
    /// <summary>Step size.</summary>
    [Hyperparameter(Initial = 1e-2, Transform = Transform.Log10, Min = 1e-10, Max = 1)]
    private Tensor learningRate;

    /// <summary>Enters the update with an infinite derivative.</summary>
    [Hyperparameter(Initial = 1, Transform = Transform.Log10)]
    private Tensor scale;
#pragma warning restore IDE1006, IDE0044

    private Tensor Step(Tensor weight, Tensor grad) => learningRate * grad * (1 + (scale - 1).sqrt());
}

/// <summary>Hyper steps skipped because a hypergradient is not finite are named and counted wherever a run reports.</summary>
public class SkippedHyperstepTests
{
    [Fact]
    public void A_run_names_the_hyperparameter_whose_hypergradient_is_not_finite_in_its_record_history_and_progress()
    {
        var path = Path.Combine(Path.GetTempPath(), $"traintune-{Guid.NewGuid():N}.jsonl");
        var progress = new List<RunProgress>();
        var result = TuningRun.Of(Tasks.Mlp, new SgdWithBrokenScale(), Loss.MeanSquaredError)
            .On(Tasks.Regression()).Tune(Method.OnePass()).ForSteps(50).RecordTo(path).OnProgress(progress.Add).Run();

        Assert.Equal(5, result.SkippedHypersteps);
        Assert.All(result.History, r => Assert.Equal(["scale"], r.NotFinite));
        Assert.Equal([1, 2, 3, 4, 5], progress.Select(p => p.SkippedHypersteps));
        Assert.All(progress, p => Assert.Equal(["scale"], p.NotFinite));
        var skippedLines = File.ReadAllLines(path).Where(l => l.Contains("\"event\":\"hyperstep_skipped\"")).ToArray();
        Assert.Equal(5, skippedLines.Length);
        Assert.All(skippedLines, l => Assert.Contains("the hypergradient of scale was not finite", l));
        Assert.All(skippedLines, l => Assert.Contains("\"hyperparameters\":[\"scale\"]", l));
        File.Delete(path);
    }

    [Fact]
    public void A_tuner_says_so_at_the_first_skipped_hyper_step_and_at_the_tenth()
    {
        var data = Tasks.Regression();
        torch.manual_seed(3);
        var model = Tasks.Mlp();
        var warnings = new StringWriter();
        using var tuner = Tuner.For(model, Tasks.Mlp, new SgdWithBrokenScale(), Method.OnePass());
        tuner.Warnings = warnings;
        for (var s = 0; s < 120; s++)
            tuner.Step(Loss.MeanSquaredError.Compute(model.call(data.Train.Inputs), data.Train.Targets),
                validationLoss: m => Loss.MeanSquaredError.Compute(m.call(data.Validation.Inputs), data.Validation.Targets));

        Assert.Equal(12, tuner.SkippedHypersteps);
        Assert.All(tuner.History, r => Assert.Equal(["scale"], r.NotFinite));
        var lines = warnings.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("TrainTune: 1 hyper step skipped so far (the last at step 10): the hypergradient of scale was not finite", lines[0]);
        Assert.StartsWith("TrainTune: 10 hyper steps skipped so far (the last at step 100)", lines[1]);
    }

    [Fact]
    public void The_build_logs_the_first_skipped_hyper_step_at_once_and_the_count_on_every_line()
    {
        var now = new DateTime(2026, 1, 1);
        var reporter = new ProgressReporter("Energy", TimeSpan.FromSeconds(5), () => now);
        build::TrainTune.Hosting.ProgressLine Line(int step, int skipped) =>
            new(step, 100, 0.5, 0.25, new Dictionary<string, double> { ["learningRate"] = 0.001 }, step / 10.0, null, skipped, skipped > 0 ? ["scale"] : null);

        Assert.NotNull(reporter.Consider(Line(10, 0).Write()));
        Assert.Null(reporter.Consider(Line(20, 0).Write()));
        var first = reporter.Consider(Line(30, 1).Write());
        Assert.Null(reporter.Consider(Line(40, 2).Write()));
        Assert.Equal("Energy: step 30/100 (30%), train 0.5, validation 0.25 | learningRate 0.001 | 1 hyper step skipped (hypergradient of scale not finite) | 7 s left", first);
        Assert.Contains("| 2 hyper steps skipped (hypergradient of scale not finite) |", ProgressReporter.Format("Energy", Line(40, 2)));
    }
}
