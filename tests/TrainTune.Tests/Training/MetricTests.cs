using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>A metric beside the loss (accuracy): computed in the final evaluation's pass, weighted by rows across chunks, in the record and the result; a bad metric is a clear error before anything is written.</summary>
public class MetricTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-metric-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Accuracy_over_chunks_equals_the_accuracy_of_the_whole_split_by_hand()
    {
        torch.manual_seed(2);
        using var learner = new Learner(new SmallCnn(), new SmallCnn(), new Sgd(0.1), Loss.CrossEntropy);
        var data = SmallCnn.Task();
        for (var t = 0; t < 5; t++) learner.UntrackedStep(new Split(data.Train.Inputs.narrow(0, 16 * t % 64, 16), data.Train.Targets.narrow(0, 16 * t % 64, 16)));
        // Chunks of 10 rows: 32 rows are 10 + 10 + 10 + 2, weighted by their rows.
        var (loss, accuracy) = learner.EvaluateLossAndMetric(data.Validation, Metric.Accuracy, chunkRows: 10);

        using var _ = torch.no_grad();
        var byHand = new SmallCnn();
        foreach (var (to, from) in byHand.parameters().Zip(learner.Model.parameters())) to.copy_(from);
        foreach (var (to, from) in byHand.buffers().Zip(learner.Model.buffers())) to.copy_(from);
        byHand.eval();
        var logits = byHand.call(data.Validation.Inputs);
        var correct = Enumerable.Range(0, 32).Count(r => logits[r].argmax().item<long>() == data.Validation.Targets[r].item<long>());
        Assert.Equal(correct / 32.0, accuracy[0], 12);
        Assert.Equal(nn.functional.cross_entropy(logits, data.Validation.Targets).item<double>(), loss[0], 12);
        Assert.InRange(correct, 1, 31);
    }

    [Fact]
    public void The_final_evaluation_takes_chunks_whose_inputs_stay_small()
    {
        Assert.Equal(8192, Evaluation.ChunkRows(8));        // UCI rows: as before
        Assert.Equal(668, Evaluation.ChunkRows(784));       // Fashion-MNIST images
        Assert.Equal(170, Evaluation.ChunkRows(3 * 32 * 32)); // CIFAR-10 images
        Assert.Equal(16, Evaluation.ChunkRows(10_000_000));
    }

    [Fact]
    public void A_runs_accuracy_is_in_its_result_and_its_records_finished_line()
    {
        var record = Path.Combine(_folder, "run.jsonl");
        var result = TuningRun.Of(() => new SmallCnn(), new SgdMomentum(0.05, 0.5, 1e-4), Loss.CrossEntropy).On(SmallCnn.Task()).Tune(Method.OnePass())
            .ForSteps(30).WithBatchSize(16, 16).InPrecision(ScalarType.Float64).WithMetric(Metric.Accuracy).RecordTo(record).Run();
        var metric = result.Metric!;
        Assert.Equal("accuracy", metric.Name);
        Assert.True(metric.HigherIsBetter);
        Assert.All(new[] { metric.Train, metric.Validation, metric.Test!.Value }, a => Assert.InRange(a, 0, 1));
        // 64 training rows: the accuracy is a multiple of 1/64.
        Assert.Equal(Math.Round(metric.Train * 64), metric.Train * 64, 9);
        var finished = JsonDocument.Parse(File.ReadLines(record).Last()).RootElement;
        Assert.Equal("finished", finished.GetProperty("event").GetString());
        Assert.Equal(metric.Test.Value, finished.GetProperty("metric").GetProperty("test").GetDouble());
        Assert.True(finished.GetProperty("metric").GetProperty("higher_is_better").GetBoolean());
    }

    [Fact]
    public void A_metric_that_is_not_a_scalar_is_refused_before_anything_is_written()
    {
        var record = Path.Combine(_folder, "bad.jsonl");
        var perRow = new Metric("per-row", (output, target) => output.argmax(-1).eq(target).to(ScalarType.Float64));
        var error = Assert.Throws<TrainTuneException>(() => TuningRun.Of(() => new SmallCnn(), new Sgd(0.1), Loss.CrossEntropy).On(SmallCnn.Task())
            .ForSteps(5).InPrecision(ScalarType.Float64).WithMetric(perRow).RecordTo(record).Run());
        Assert.Contains("The metric per-row returned a tensor of shape [2]", error.Message);
        Assert.Contains("must return a scalar", error.Message);
        Assert.False(File.Exists(record));
    }
}
