using System.Text.Json;
using TrainTune.Hosting;
using TrainTune.Tests.Training;

namespace TrainTune.Tests.Threading;

public class ThreadPolicyTests
{
    const long W = ThreadPolicy.WorkPerThread;

    [Fact]
    public void One_thread_below_the_threshold_and_one_more_per_threshold_above_it_up_to_the_cores()
    {
        Assert.Equal(1, ThreadPolicy.Choose(W - 1, null, cores: 8).IntraOp);
        Assert.Equal(2, ThreadPolicy.Choose(W, null, cores: 8).IntraOp);
        Assert.Equal(4, ThreadPolicy.Choose(3 * W + W / 2, null, cores: 8).IntraOp);
        Assert.Equal(2, ThreadPolicy.Choose(10 * W, null, cores: 2).IntraOp);
        Assert.Equal(1, ThreadPolicy.Choose(10 * W, null, cores: 1).IntraOp);
        Assert.All(new[] { 1L, W, 100 * W }, work => Assert.Equal(1, ThreadPolicy.Choose(work, null, cores: 4).InterOp));

        var small = ThreadPolicy.Choose(307_614, null, cores: 2);
        Assert.Equal("auto: 3.08E+05 multiply-adds per step is below the 4.8E+07 an extra thread needs, so one thread", small.Reason);
        Assert.Contains("would use 11 threads; capped at 2 (2 cores available to this process)", ThreadPolicy.Choose(10 * W, null, cores: 2).Reason);
        Assert.Contains("capped at 1 (1 of the process's 2 cores for this run)", ThreadPolicy.Choose(10 * W, null, 1, "1 of the process's 2 cores for this run").Reason);
    }

    [Fact]
    public void A_tuner_follows_the_thread_policy_and_takes_an_explicit_count()
    {
        TorchSharp.torch.set_num_threads(2);
        using var tuner = Tuner.For(Tasks.Mlp(), Tasks.Mlp, new Sgd(), Method.Fixed());
        Assert.Equal(1, tuner.Threads.IntraOp);
        Assert.Equal(1, TorchSharp.torch.get_num_threads());
        Assert.Contains("rows per step unknown", tuner.Threads.Reason);
        Assert.Same(tuner, tuner.WithThreads(2));
        Assert.Equal(2, TorchSharp.torch.get_num_threads());
        Assert.Contains("set to 2", tuner.Threads.Reason);
        var error = Assert.Throws<TrainTuneException>(() => tuner.WithThreads(0));
        Assert.Contains("positive number", error.Message);
        tuner.WithThreads(null);
        Assert.Equal(1, TorchSharp.torch.get_num_threads());
    }

    [Fact]
    public void An_explicit_thread_count_wins_and_says_so()
    {
        var choice = ThreadPolicy.Choose(10, requested: 3, cores: 2);
        Assert.Equal((3, 1), (choice.IntraOp, choice.InterOp));
        Assert.Equal("set to 3 by WithThreads/TrainTuneThreads, more than the 2 cores available to this process", choice.Reason);
        Assert.Equal("set to 1 by WithThreads/TrainTuneThreads", ThreadPolicy.Choose(100 * W, requested: 1, cores: 2).Reason);
    }

    [Fact]
    public void The_cores_are_the_ones_this_process_may_use() =>
        // .NET's count honours the affinity mask and a cgroup quota; the end-to-end test runs the host under taskset.
        Assert.Equal(Environment.ProcessorCount, ThreadPolicy.AvailableCores);

    [Fact]
    public void A_run_estimates_its_work_from_parameters_and_rows_and_records_the_threads_it_used()
    {
        var path = Path.Combine(Path.GetTempPath(), $"traintune-{Guid.NewGuid():N}", "record.jsonl");
        var run = TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-2, 0.5, 1e-4), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20);
        const long parameters = 8 * 16 + 16 + 16 + 1;

        var fullBatch = run.RecordTo(path).Run();
        Assert.Equal(parameters * 400, fullBatch.Threads!.WorkPerStep);
        Assert.Equal(1, fullBatch.Threads.IntraOp);
        Assert.StartsWith("auto: ", fullBatch.Threads.Reason);
        var start = JsonDocument.Parse(File.ReadLines(path).First()).RootElement.GetProperty("threads");
        Assert.Equal(1, start.GetProperty("intra_op").GetInt32());
        Assert.Equal(fullBatch.Threads.InterOp, start.GetProperty("inter_op").GetInt32());
        Assert.Equal(fullBatch.Threads.Reason, start.GetProperty("reason").GetString());
        Assert.Equal(parameters * 400, start.GetProperty("work_per_step").GetInt64());

        Assert.Equal(parameters * 32, run.WithBatchSize(32).Run().Threads!.WorkPerStep);
        Assert.StartsWith("set to 1 by WithThreads", run.WithThreads(1).Run().Threads!.Reason);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void WithThreads_refuses_a_count_below_one(int threads)
    {
        var run = TuningRun.Of(Tasks.Mlp, new Sgd(), Loss.MeanSquaredError);
        var error = Assert.Throws<TrainTuneException>(() => run.WithThreads(threads));
        Assert.Equal($"WithThreads({threads}) is not valid: use a positive number of threads, or null for the automatic choice.", error.Message);
        Assert.Null(run.WithThreads(4).WithThreads(null).Threads);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("two")]
    [InlineData("1.5")]
    public void The_thread_knob_refuses_what_is_not_auto_or_a_positive_number(string value)
    {
        Assert.Equal($"TrainTuneThreads='{value}' is not valid: use auto (the default: chosen from each run's work per step) or a positive whole number of libtorch threads.",
            ThreadKnob.Parse(value, "TrainTuneThreads", out var threads));
        Assert.Null(threads);
    }

    [Theory]
    [InlineData("auto", null)]
    [InlineData("AUTO", null)]
    [InlineData("", null)]
    [InlineData(" 3 ", 3)]
    public void The_thread_knob_takes_auto_or_a_positive_number(string value, int? expected)
    {
        Assert.Null(ThreadKnob.Parse(value, "TrainTuneThreads", out var threads));
        Assert.Equal(expected, threads);
    }
}
