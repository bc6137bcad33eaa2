using TrainTune.Hosting;
using TrainTune.Tests.Training;
using static TorchSharp.torch;

namespace TrainTune.Tests.Records;

/// <summary>Every line and file that crosses a process is written and read back through one type.</summary>
public class RecordContractTests
{
    [Fact]
    public void Every_record_line_reads_back_as_the_type_it_was_written_as()
    {
        var folder = Directory.CreateTempSubdirectory("traintune-record-").FullName;
        try
        {
            var path = Path.Combine(folder, "record.jsonl");
            var run = TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(30).WithBatchSize(32, 64)
                .InPrecision(ScalarType.Float64).WithSeed(9).Tune(Method.OnePass()).RecordTo(path);
            var result = run.Run();

            var start = Assert.Single(RecordFile.Read<RecordFile.StartLine>(path, RecordFile.Start));
            Assert.Equal(("OnePass", 9L, 30, 32, 64, "SgdMomentum", "MeanSquaredError"),
                (start.Method, start.Seed, start.Steps, start.BatchSize, start.ValidationBatchSize, start.Rule, start.Loss));
            Assert.Equal(result.Threads!.IntraOp, start.Threads.IntraOp);
            Assert.Null(start.Population);
            Assert.Equal(["hidden.weight", "hidden.bias", "output.weight", "output.bias"], start.Weights);
            Assert.Equal(result.InitialHyperparameters["momentum"].Value, start.Hyperparameters["momentum"].Value);
            Assert.Equal(5, start.MethodOptions!["neumann_terms"]!.GetValue<int>());

            Assert.Equal(result.History.Select(b => b.ValidationLoss), RecordFile.ReadBlocks(path).Select(b => b.ValidationLoss));

            var finished = Assert.Single(RecordFile.Read<RecordFile.FinishedLine>(path, RecordFile.Finished));
            Assert.Equal((result.StepsCompleted, result.TrainLoss, result.ValidationLoss, result.TestLoss, result.Seconds),
                (finished.StepsCompleted, finished.TrainLoss, finished.ValidationLoss, finished.TestLoss, finished.Seconds));
            Assert.Equal(result.FinalHyperparameters["learningRate"].Value, finished.Hyperparameters["learningRate"].Value);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_diverged_run_writes_its_diverged_and_stopped_lines_as_their_types()
    {
        var folder = Directory.CreateTempSubdirectory("traintune-record-").FullName;
        try
        {
            var path = Path.Combine(folder, "record.jsonl");
            var result = TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(200).WithSeed(2)
                .StartingFrom(new Dictionary<string, double> { ["learningRate"] = 1, ["momentum"] = 0.999 }).RecordTo(path).Run();
            Assert.True(result.Diverged);
            var diverged = Assert.Single(RecordFile.Read<RecordFile.DivergedLine>(path, RecordFile.Diverged));
            Assert.Equal(result.DivergedAtStep, diverged.Step);
            Assert.False(double.IsFinite(diverged.TrainLoss));
            var stopped = Assert.Single(RecordFile.Read<RecordFile.FinishedLine>(path, RecordFile.Stopped));
            Assert.Equal((result.DivergedAtStep, $"diverged at step {result.DivergedAtStep}"), (stopped.DivergedAtStep, stopped.Note));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_progress_line_is_read_back_as_written_and_other_output_is_not_progress()
    {
        var line = new ProgressLine(40, 400, 0.5, double.NaN, new Dictionary<string, double> { ["learningRate"] = 0.01 }, 2.5);
        var read = ProgressLine.Parse(line.Write());
        Assert.NotNull(read);
        Assert.Equal((40, 400, 0.5, 2.5, 0.01), (read.Step, read.TotalSteps, read.TrainLoss, read.ElapsedSeconds, read.Hyperparameters["learningRate"]));
        Assert.True(double.IsNaN(read.ValidationLoss));
        Assert.Null(ProgressLine.Parse("ordinary output"));
        Assert.Null(ProgressLine.Parse(HostProtocol.ProgressPrefix + "{torn"));
    }
}
