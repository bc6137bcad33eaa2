using System.Text.Json;
using TorchSharp;
using TrainTune.Tests.Hypergradients;
using TrainTune.Tests.Training;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hyperparameters;

/// <summary>Schedules: m(t) · λ read by the rule at step t, λ tuned through the multiplier.</summary>
public class ScheduleTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-schedule-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_built_in_schedules_give_the_torch_schedulers_multipliers()
    {
        // LinearLR(start_factor = 0.25, total_iters = 4): 0.25, 0.4375, 0.625, 0.8125, then 1.
        var warmup = Schedule.LinearWarmup(4, startFactor: 0.25);
        Assert.Equal([0.25, 0.4375, 0.625, 0.8125, 1, 1], Enumerable.Range(0, 6).Select(warmup.At));
        // CosineAnnealingLR(T_max = 10, η_min = 0.1 λ): 1 at 0, halfway 0.55 at 5, 0.1 from 10 on.
        var cosine = Schedule.Cosine(10, minFactor: 0.1);
        Assert.Equal(1, cosine.At(0), 15);
        Assert.Equal(0.55, cosine.At(5), 15);
        Assert.Equal(0.1 + 0.9 * (1 + Math.Cos(Math.PI * 0.3)) / 2, cosine.At(3), 15);
        Assert.Equal(0.1, cosine.At(10), 15);
        Assert.Equal(0.1, cosine.At(25), 15);
        // StepLR(step_size = 3, gamma = 0.5).
        var decay = Schedule.StepDecay(3, 0.5);
        Assert.Equal([1, 1, 1, 0.5, 0.5, 0.5, 0.25], Enumerable.Range(0, 7).Select(decay.At));
        var both = Schedule.LinearWarmup(2).Times(Schedule.StepDecay(3, 0.5));
        Assert.Equal([0, 0.5, 1, 0.5], Enumerable.Range(0, 4).Select(both.At));
        Assert.Equal(0.7, Schedule.Of(t => 0.7).At(123));
    }

    [Fact]
    public void A_scheduled_learning_rate_gives_the_steps_computed_by_hand()
    {
        const double learningRate = 0.1;
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var model = TinyMlpProblem.Model();
        using var tuner = Tuner.For(model, TinyMlpProblem.Model, new Sgd(learningRate), Method.Fixed())
            .WithSchedule("learningRate", Schedule.StepDecay(2, 0.5));
        var w = TinyMlpProblem.Flatten(model.parameters());
        for (var t = 0; t < 5; t++)
        {
            tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train));
            var leaf = w.requires_grad_(true);
            var gradient = torch.autograd.grad([problem.TrainLoss(leaf)], [leaf])[0];
            w = (w - learningRate * Math.Pow(0.5, t / 2) * gradient).detach();
            Assert.Equal(0, (TinyMlpProblem.Flatten(model.parameters()) - w).abs().max().item<double>(), 12);
        }
        // The base value is what the tuner reports.
        Assert.Equal(learningRate, tuner.Hyperparameters["learningRate"].Value);
    }

    static Learner Prepared(TinyMlpProblem problem, Schedule schedule)
    {
        torch.manual_seed(3);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new SgdMomentum(0.05, 0.6, 0.02), Loss.MeanSquaredError);
        for (var h = 0; h < learner.Hyperparameters.Specs.Count; h++) learner.Hyperparameters.Track(h, "the test");
        learner.SetSchedule(SgdMomentum.LearningRate, schedule);
        learner.SetSchedule(SgdMomentum.WeightDecay, schedule);
        for (var s = 0; s < 3; s++) learner.UntrackedStep(problem.Train);
        return learner;
    }

    [Theory]
    [InlineData(0, "log10 learning rate")]
    [InlineData(1, "logit momentum (not scheduled)")]
    [InlineData(2, "log10 weight decay")]
    public void The_one_pass_hypergradient_goes_through_the_multiplier(int hyperparameter, string what)
    {
        var problem = new TinyMlpProblem();
        // m(3) = 0.35 at the step differentiated; the steps before it had their own multipliers.
        var schedule = Schedule.Of(t => 0.8 - 0.15 * t);
        var actual = Prepared(problem, schedule).TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [hyperparameter]).Hypergradient[0].item<double>();

        double Objective(double delta) => problem.ValidationLossAfterStep(Prepared(problem, schedule), hyperparameter, delta);
        const double h = 1e-6;
        var expected = (Objective(h) - Objective(-h)) / (2 * h);
        Assert.True(Math.Abs(expected) > 1e-8, $"{what}: the finite difference {expected} is too small to check anything");
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-5, $"{what}: runtime {actual}, finite differences {expected}");

        // Without the multiplier the hypergradient differs: the test sees it.
        var unscheduled = Prepared(problem, Schedule.Of(_ => 1)).TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [hyperparameter]).Hypergradient[0].item<double>();
        Assert.True(TinyMlpProblem.RelativeError(unscheduled, expected) > 1e-3, $"{what}: {unscheduled} with the multiplier 1 against {expected}");
    }

    [Fact]
    public void Diff_through_opt_takes_the_scheduled_steps_of_a_fixed_run()
    {
        var problem = new TinyMlpProblem();
        var schedule = Schedule.Cosine(8, minFactor: 0.2);
        nn.Module<Tensor, Tensor> Trained(Method method)
        {
            torch.manual_seed(3);
            var model = TinyMlpProblem.Model();
            var tuner = Tuner.For(model, TinyMlpProblem.Model, new SgdMomentum(0.05, 0.6, 0.02), method).WithSchedule(SgdMomentum.LearningRate, schedule);
            // Nine steps: the unrolled block's first nine, before its hyper step changes anything.
            for (var t = 0; t < 9; t++) tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train), m => TinyMlpProblem.Mse(m, problem.Validation));
            return model;
        }
        var unrolled = TinyMlpProblem.Flatten(Trained(Method.DiffThroughOpt(unrolledSteps: 5, tune: [SgdMomentum.Momentum])).parameters());
        var plain = TinyMlpProblem.Flatten(Trained(Method.Fixed()).parameters());
        Assert.Equal(0, (unrolled - plain).abs().max().item<double>(), 12);
    }

    [Fact]
    public void A_resumed_scheduled_run_ends_exactly_like_an_uninterrupted_one()
    {
        TuningRun Run(string name) =>
            TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-2, 0.5, 1e-4), Loss.MeanSquaredError).On(Tasks.Regression()).Tune(Method.OnePass())
                .WithSchedule(SgdMomentum.LearningRate, Schedule.LinearWarmup(50).Times(Schedule.Cosine(200)))
                .ForSteps(200).WithBatchSize(32).WithSeed(3).CheckpointTo(Path.Combine(_folder, name + ".ckpt"), everyBlocks: 4);
        var uninterrupted = Run("whole").Run();
        (Run("parts") with { StopAfterBlocks = 9 }).Run();
        var resumed = Run("parts").ResumeFromCheckpoint().Run();
        Assert.Equal(uninterrupted.ValidationLoss, resumed.ValidationLoss);
        Assert.Equal(JsonSerializer.Serialize(uninterrupted.FinalHyperparameters), JsonSerializer.Serialize(resumed.FinalHyperparameters));
    }

    [Fact]
    public void The_records_start_line_lists_the_schedules()
    {
        var record = Path.Combine(_folder, "record.jsonl");
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()).Tune(Method.OnePass()).ForSteps(20)
            .WithSchedule(SgdMomentum.LearningRate, Schedule.StepDecay(10, 0.5)).RecordTo(record).Run();
        using var start = JsonDocument.Parse(File.ReadLines(record).First());
        Assert.Equal("× 0.5 every 10 steps", start.RootElement.GetProperty("schedules").GetProperty("learningRate").GetString());
    }

    [Fact]
    public void A_negative_multiplier_is_refused_naming_the_hyperparameter_and_step_and_changes_nothing()
    {
        var problem = new TinyMlpProblem();
        var model = TinyMlpProblem.Model();
        using var tuner = Tuner.For(model, TinyMlpProblem.Model, new Sgd(0.1), Method.Fixed())
            .WithSchedule("learningRate", Schedule.Of(t => 1 - t / 2.0, "1 − t/2"));
        for (var t = 0; t < 3; t++) tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train));
        var before = TinyMlpProblem.Flatten(model.parameters());
        var error = Assert.Throws<TrainTuneException>(() => tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train)));
        Assert.Contains("The schedule of 'learningRate' (1 − t/2) gave the multiplier -0.5 at step 3", error.Message);
        Assert.Equal(0, (TinyMlpProblem.Flatten(model.parameters()) - before).abs().max().item<double>());
        Assert.Equal(3, tuner.Steps);
    }

    [Fact]
    public void Bad_schedules_are_refused_with_what_to_change()
    {
        Assert.Contains("steps must be at least 1", Assert.Throws<TrainTuneException>(() => Schedule.LinearWarmup(0)).Message);
        Assert.Contains("minFactor must lie in [0, 1]", Assert.Throws<TrainTuneException>(() => Schedule.Cosine(10, minFactor: -1)).Message);
        Assert.Contains("factor must be a finite number greater than 0", Assert.Throws<TrainTuneException>(() => Schedule.StepDecay(5, 0)).Message);
        var run = TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20);
        var unknown = Assert.Throws<TrainTuneException>(() => run.WithSchedule("lr", Schedule.Cosine(20)).Run());
        Assert.Contains("'lr' cannot be scheduled: the rule SgdMomentum has no hyperparameter of that name (it has learningRate, momentum, weightDecay)", unknown.Message);
        var scheduleFree = Assert.Throws<TrainTuneException>(() =>
            TuningRun.Of(Tasks.Mlp, new ScheduleFreeSgd(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20).WithSchedule("learningRate", Schedule.Cosine(20)).Run());
        Assert.Contains("ScheduleFreeSgd is schedule-free", scheduleFree.Message);
    }
}
