using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

public class CheckpointTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    TuningRun Run(string name, bool perWeight) =>
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4, perWeight), Loss.MeanSquaredError)
            .On(Tasks.Regression()).Tune(Method.OnePass()).ForSteps(300).WithBatchSize(32).WithSeed(9)
            .RecordTo(Path.Combine(_folder, name + ".jsonl"))
            .CheckpointTo(Path.Combine(_folder, name + ".ckpt"), everyBlocks: 5);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_run_resumed_from_its_last_checkpoint_ends_exactly_like_an_uninterrupted_one(bool perWeight)
    {
        var uninterrupted = Run("whole", perWeight).Run();
        Assert.False(File.Exists(Path.Combine(_folder, "whole.ckpt")), "a finished run removes its checkpoint");

        var interrupted = (Run("parts", perWeight) with { StopAfterBlocks = 12 }).Run();
        Assert.Equal(120, interrupted.StepsCompleted);
        Assert.True(File.Exists(Path.Combine(_folder, "parts.ckpt")));
        var resumed = Run("parts", perWeight).ResumeFromCheckpoint().Run();

        Assert.Equal(uninterrupted.TrainLoss, resumed.TrainLoss);
        Assert.Equal(uninterrupted.ValidationLoss, resumed.ValidationLoss);
        Assert.Equal(uninterrupted.TestLoss, resumed.TestLoss);
        Assert.Equal(JsonSerializer.Serialize(uninterrupted.FinalHyperparameters), JsonSerializer.Serialize(resumed.FinalHyperparameters));
        Assert.Equal(uninterrupted.History.Select(h => h.ValidationLoss), resumed.History.Select(h => h.ValidationLoss));

        var record = File.ReadAllLines(Path.Combine(_folder, "parts.jsonl"));
        Assert.Contains(record, l => l.Contains("\"event\":\"resumed\"") && l.Contains("\"step\":100"));
        var blockSteps = record.Where(l => l.Contains("\"event\":\"block\"")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(1, 30).Select(b => 10 * b), blockSteps);
    }

    [Theory]
    [InlineData("Baydin")]
    [InlineData("DiffThroughOpt")]
    public void Baydin_and_diff_through_opt_resume_exactly_too(string method)
    {
        TuningRun Of(string name) => Run(name, false).Tune(method == "Baydin" ? Method.HypergradientDescent() : Method.DiffThroughOpt());
        var uninterrupted = Of(method + "-whole").Run();
        (Of(method + "-parts") with { StopAfterBlocks = 12 }).Run();
        var resumed = Of(method + "-parts").ResumeFromCheckpoint().Run();
        Assert.Equal(uninterrupted.ValidationLoss, resumed.ValidationLoss);
        Assert.Equal(JsonSerializer.Serialize(uninterrupted.FinalHyperparameters), JsonSerializer.Serialize(resumed.FinalHyperparameters));
    }

    [Fact]
    public void A_checkpoint_of_another_run_is_refused()
    {
        (Run("other", false) with { StopAfterBlocks = 6 }).Run();
        var error = Assert.Throws<TrainTuneException>(() => Run("other", false).WithSeed(10).ResumeFromCheckpoint().Run());
        Assert.Contains("belongs to a OnePass run with seed 9", error.Message);
    }

    [Fact]
    public void A_checkpoint_of_a_model_with_other_layer_names_is_refused_with_what_differs()
    {
        (Run("renamed", false) with { StopAfterBlocks = 6 }).Run();
        // The same shapes under other names: a checkpoint keyed by position would load silently.
        static nn.Module<Tensor, Tensor> Renamed() => nn.Sequential(("first", nn.Linear(8, 16)), ("relu", nn.ReLU()), ("output", nn.Linear(16, 1)));
        var error = Assert.Throws<TrainTuneException>(() => (Run("renamed", false) with { ModelFactory = Renamed }).ResumeFromCheckpoint().Run());
        Assert.Equal("The checkpoint belongs to a different model or rule: its weights differ from this run's; this run has first.weight, first.bias, "
            + "which the checkpoint lacks; the checkpoint has hidden.bias, hidden.weight, which this run lacks. Delete the checkpoint to start afresh, "
            + "or resume with the model and rule that wrote it.", error.Message);
    }

    [Fact]
    public void A_checkpoint_with_per_weight_learning_rates_is_refused_by_a_run_without_them()
    {
        (Run("perweight", true) with { StopAfterBlocks = 6 }).Run();
        var error = Assert.Throws<TrainTuneException>(() => Run("perweight", false).ResumeFromCheckpoint().Run());
        Assert.Contains("its hyperparameters differ from this run's; this run has learningRate, which the checkpoint lacks; the checkpoint has learningRate/hidden.bias", error.Message);
    }

    [Fact]
    public void A_checkpoint_of_the_earlier_format_is_refused_with_its_version()
    {
        var path = Path.Combine(_folder, "old.ckpt");
        using (var writer = new BinaryWriter(File.Create(path))) writer.Write("TRAINTUNE-CHECKPOINT-1");
        var error = Assert.Throws<TrainTuneException>(() => Run("old", false).ResumeFromCheckpoint().Run());
        Assert.Equal($"The checkpoint '{path}' has format 1, written by another version of TrainTune; this one reads format 2. Delete it to start the run afresh.", error.Message);
    }

    [Fact]
    public void A_corrupt_checkpoint_is_a_clear_error()
    {
        File.WriteAllText(Path.Combine(_folder, "bad.ckpt"), "garbage");
        var error = Assert.Throws<TrainTuneException>(() => Run("bad", false).ResumeFromCheckpoint().Run());
        Assert.Contains("cannot be read", error.Message);
        Assert.Contains("delete it", error.Message);
    }
}
