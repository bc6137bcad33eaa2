using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

public class TuningRunTests
{
    static TuningRun Base(double learningRate = 1e-5) =>
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(learningRate, 0.5, 1e-4), Loss.MeanSquaredError)
            .On(Tasks.Regression()).ForSteps(2000).WithSeed(4);

    [Fact]
    public void One_pass_tuning_from_a_poor_learning_rate_beats_the_same_run_with_fixed_hyperparameters()
    {
        var fixedRun = Base().Tune(Method.Fixed(10)).Run();
        var tuned = Base().Tune(Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5)).Run();

        Assert.False(tuned.Diverged);
        Assert.True(tuned.ValidationLoss < 0.1 * fixedRun.ValidationLoss,
            $"tuned validation loss {tuned.ValidationLoss}, fixed {fixedRun.ValidationLoss}");
        Assert.True(tuned.FinalHyperparameters["learningRate"].Value > 1e-4, "the learning rate should have grown from 1e-5");
        Assert.Equal(1e-5, fixedRun.FinalHyperparameters["learningRate"].Value, 1e-10); // float32 raw value
    }

    [Fact]
    public void Runs_with_the_same_seed_are_identical_on_cpu()
    {
        var first = Base(1e-3).Tune(Method.OnePass()).ForSteps(300).WithBatchSize(32).Run();
        var second = Base(1e-3).Tune(Method.OnePass()).ForSteps(300).WithBatchSize(32).Run();
        Assert.Equal(first.History.Select(h => h.TrainLoss), second.History.Select(h => h.TrainLoss));
        Assert.Equal(first.FinalHyperparameters["learningRate"].Value, second.FinalHyperparameters["learningRate"].Value);
        Assert.Equal(first.TestLoss, second.TestLoss);
        var third = Base(1e-3).Tune(Method.OnePass()).ForSteps(300).WithBatchSize(32).WithSeed(5).Run();
        Assert.NotEqual(first.TestLoss, third.TestLoss);
    }

    [Fact]
    public void Learning_rate_stays_within_its_bounds()
    {
        // From the top of its range the learning rate diverges the model or is pushed down, but never above 1.
        var result = Base(1.0).Tune(Method.OnePass(hyperLearningRate: 0.5)).ForSteps(200).Run();
        foreach (var record in result.History)
            Assert.InRange(record.Hyperparameters["learningRate"].Value, 1e-10, 1.0 + 1e-6);
    }

    [Fact]
    public void Per_weight_learning_rates_are_recorded_per_weight_tensor()
    {
        var path = Path.Combine(Path.GetTempPath(), $"traintune-{Guid.NewGuid():N}", "record.jsonl");
        var result = TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-2, 0.5, 1e-4, perWeightLearningRate: true), Loss.MeanSquaredError)
            .On(Tasks.Regression()).Tune(Method.OnePass()).ForSteps(100).RecordTo(path).Run();

        var lines = File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal("start", lines[0].GetProperty("event").GetString());
        Assert.Equal("finished", lines[^1].GetProperty("event").GetString());
        var blocks = lines.Where(l => l.GetProperty("event").GetString() == "block").ToArray();
        Assert.Equal(10, blocks.Length);
        Assert.Equal(result.History.Count, blocks.Length);
        var last = blocks[^1];
        Assert.Equal(100, last.GetProperty("step").GetInt32());
        Assert.True(last.GetProperty("hypergradient_norm").GetDouble() > 0);
        Assert.True(double.IsFinite(last.GetProperty("train_loss").GetDouble()));
        Assert.True(double.IsFinite(last.GetProperty("validation_loss").GetDouble()));
        var learningRate = last.GetProperty("hyperparameters").GetProperty("learningRate");
        var perTensor = learningRate.GetProperty("per_tensor");
        Assert.Equal(["hidden.weight", "hidden.bias", "output.weight", "output.bias"], perTensor.EnumerateObject().Select(p => p.Name));
        foreach (var tensor in perTensor.EnumerateObject())
        {
            var (mean, min, max) = (tensor.Value.GetProperty("value").GetDouble(), tensor.Value.GetProperty("min").GetDouble(), tensor.Value.GetProperty("max").GetDouble());
            Assert.True(min <= mean && mean <= max);
        }
        Assert.True(perTensor.EnumerateObject().Any(t => t.Value.GetProperty("min").GetDouble() < t.Value.GetProperty("max").GetDouble()),
            "per-weight learning rates should have moved apart");
        Assert.Equal(0.5, lines[0].GetProperty("hyperparameters").GetProperty("momentum").GetProperty("value").GetDouble(), 12);
    }

    [Fact]
    public void A_diverging_run_stops_and_records_the_step()
    {
        var path = Path.Combine(Path.GetTempPath(), $"traintune-{Guid.NewGuid():N}.jsonl");
        var data = Tasks.Regression();
        var scaled = data with { Train = data.Train with { Inputs = data.Train.Inputs * 100 } };
        var result = TuningRun.Of(Tasks.Mlp, new SgdMomentum(1.0, 0.9, 1e-4), Loss.MeanSquaredError)
            .On(scaled).Tune(Method.Fixed()).ForSteps(500).RecordTo(path).Run();

        Assert.True(result.Diverged);
        Assert.Equal($"diverged at step {result.DivergedAtStep}", result.DivergenceNote);
        Assert.True(result.DivergedAtStep < 500);
        Assert.Equal(result.DivergedAtStep, result.StepsCompleted);
        var lines = File.ReadAllLines(path);
        Assert.Contains(lines, l => l.Contains("\"event\":\"diverged\"") && l.Contains($"diverged at step {result.DivergedAtStep}"));
    }

    [Fact]
    public void A_hyper_step_with_a_non_finite_hypergradient_is_skipped_and_training_goes_on()
    {
        var data = Tasks.Regression();
        var targets = data.Validation.Targets.clone();
        // Finite data (NaN in the data is refused before training, DataErrorTests) whose loss's
        // gradient overflows float32: 2 (prediction − 3e38) is −∞, and so is the hypergradient.
        targets[0, 0] = 3e38;
        var poisoned = data with { Validation = data.Validation with { Targets = targets } };
        var result = TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-2, 0.5, 1e-4), Loss.MeanSquaredError)
            .On(poisoned).Tune(Method.OnePass()).ForSteps(50).Run();

        Assert.False(result.Diverged);
        Assert.Equal(50, result.StepsCompleted);
        Assert.Equal(5, result.SkippedHypersteps);
        Assert.All(result.History, r => Assert.True(r.HyperstepSkipped));
        Assert.Equal(1e-2, result.FinalHyperparameters["learningRate"].Value, 1e-9);
        Assert.True(double.IsFinite(result.TrainLoss));
    }

    [Fact]
    public void Only_the_named_hyperparameters_are_tuned()
    {
        var result = Base(1e-3).Tune(Method.OnePass(tune: ["learningRate", "weightDecay"])).ForSteps(200).Run();
        Assert.Equal(0.5, result.FinalHyperparameters["momentum"].Value, 12);
        Assert.NotEqual(1e-3, result.FinalHyperparameters["learningRate"].Value);
        Assert.NotEqual(1e-4, result.FinalHyperparameters["weightDecay"].Value);
    }
}
