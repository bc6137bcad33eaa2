using System.Text.Json;

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

    [Fact]
    public void A_checkpoint_of_another_run_is_refused()
    {
        (Run("other", false) with { StopAfterBlocks = 6 }).Run();
        var error = Assert.Throws<TrainTuneException>(() => Run("other", false).WithSeed(10).ResumeFromCheckpoint().Run());
        Assert.Contains("belongs to a OnePass run with seed 9", error.Message);
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
