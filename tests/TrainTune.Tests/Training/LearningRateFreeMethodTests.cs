using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>The learning-rate-free optimisers as methods: their rules and defaults, what the tuned ones tune, where Schedule-Free is evaluated, and bad input.</summary>
public class LearningRateFreeMethodTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-lrfree-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static TuningRun Base() =>
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(100).WithSeed(4);

    [Theory]
    [InlineData("ScheduleFree", typeof(ScheduleFreeAdamW))]
    [InlineData("Prodigy", typeof(Prodigy))]
    [InlineData("DAdaptation", typeof(DAdaptAdam))]
    [InlineData("DoG", typeof(DoG))]
    public void The_optimisers_run_their_own_rule_at_its_defaults_and_tune_nothing(string method, Type rule)
    {
        // Random initial values for the target's SGD must not leak into the optimiser's defaults.
        var run = ExperimentProtocol.Apply(method, Base().StartingFrom(ExperimentProtocol.RandomInitial(4, new SgdMomentum())));
        Assert.IsType(rule, run.Rule);
        Assert.Null(run.InitialValues);
        // Like Random, they use no validation data, so they train on training and validation data.
        Assert.Equal(Base().Data!.Train.Rows + Base().Data!.Validation.Rows, run.Data!.Train.Rows);
        var result = run.Run();
        Assert.False(result.Diverged);
        foreach (var spec in run.Rule.Hyperparameters)
        {
            // Values live in the run's float32.
            Assert.Equal(spec.Initial, result.InitialHyperparameters[spec.Name].Value, 6);
            Assert.Equal(spec.Initial, result.FinalHyperparameters[spec.Name].Value, 6);
        }
        Assert.True(result.ValidationLoss < result.History[0].ValidationLoss, $"{method} did not train: {result.History[0].ValidationLoss} -> {result.ValidationLoss}");
    }

    [Theory]
    [InlineData("OursProdigy", typeof(Prodigy))]
    [InlineData("OursScheduleFree", typeof(ScheduleFreeAdamW))]
    public void The_tuned_optimisers_tune_the_step_size_factor_and_beta1_from_the_defaults(string method, Type rule)
    {
        var run = ExperimentProtocol.Apply(method, Base());
        Assert.IsType(rule, run.Rule);
        var result = run.Run();
        Assert.False(result.Diverged);
        foreach (var name in new[] { "learningRate", "beta1" })
            Assert.NotEqual(result.InitialHyperparameters[name].Value, result.FinalHyperparameters[name].Value);
        foreach (var name in new[] { "beta2", "weightDecay" })
            Assert.Equal(result.InitialHyperparameters[name].Value, result.FinalHyperparameters[name].Value, 12);
    }

    [Fact]
    public void Schedule_free_reports_its_losses_at_the_average_and_trains_at_y()
    {
        var data = Tasks.Regression();
        using var learner = new Learner(Tasks.Mlp().to(ScalarType.Float64), Tasks.Mlp().to(ScalarType.Float64), new ScheduleFreeSgd(learningRate: 0.05), Loss.MeanSquaredError);
        var validation = new Split(data.Validation.Inputs.to(ScalarType.Float64), data.Validation.Targets.to(ScalarType.Float64));
        var train = new Split(data.Train.Inputs.to(ScalarType.Float64), data.Train.Targets.to(ScalarType.Float64));
        for (var s = 0; s < 20; s++) learner.UntrackedStep(train);
        var atX = learner.EvaluateLoss(validation)[0];
        var y = learner.Weights.Select(w => w.detach().clone()).ToArray();
        Tensor[] x;
        using (learner.AtEvaluationPoint()) x = learner.Weights.Select(w => w.detach().clone()).ToArray();
        // After evaluating, the weights are back at y, bit for bit.
        for (var k = 0; k < y.Length; k++) Assert.True(Same(y[k], learner.Weights[k]), $"weight {k} not restored to y");
        Assert.True(x.Zip(y).Any(p => !p.First.allclose(p.Second)), "x and y should differ after 20 steps");
        double atY;
        using (torch.no_grad())
        {
            var loss = Loss.MeanSquaredError.Compute(LossAt(learner, y, validation.Inputs), validation.Targets);
            atY = loss.item<double>();
        }
        Assert.NotEqual(atY, atX, 6);
        double expectedAtX;
        using (torch.no_grad()) expectedAtX = Loss.MeanSquaredError.Compute(LossAt(learner, x, validation.Inputs), validation.Targets).item<double>();
        Assert.Equal(expectedAtX, atX, 12);
    }

    static bool Same(Tensor a, Tensor b) => (a - b).abs().max().to(ScalarType.Float64).item<double>() == 0;

    /// <summary>The learner's model's output on <paramref name="inputs"/> with <paramref name="weights"/>, the weights put back after.</summary>
    static Tensor LossAt(Learner learner, Tensor[] weights, Tensor inputs)
    {
        var saved = learner.Weights.Select(w => w.detach().clone()).ToArray();
        using var _ = torch.no_grad();
        for (var k = 0; k < weights.Length; k++) learner.Weights[k].copy_(weights[k]);
        learner.Model.eval();
        var output = learner.Model.call(inputs);
        learner.Model.train();
        for (var k = 0; k < weights.Length; k++) learner.Weights[k].copy_(saved[k]);
        return output;
    }

    TuningRun Checkpointed(string name) =>
        TuningRun.Of(Tasks.Mlp, new ScheduleFreeAdamW(), Loss.MeanSquaredError).On(Tasks.Regression()).Tune(Method.OnePass(tune: ["learningRate", "beta1"]))
            .ForSteps(300).WithBatchSize(32).WithSeed(9).CheckpointTo(Path.Combine(_folder, name + ".ckpt"), everyBlocks: 5);

    [Fact]
    public void A_schedule_free_checkpoint_holds_the_average_as_its_weights_and_resumes_exactly()
    {
        var uninterrupted = Checkpointed("whole").Run();
        var interrupted = (Checkpointed("parts") with { StopAfterBlocks = 12 }).Run();
        var checkpoint = Checkpoint.Load(Path.Combine(_folder, "parts.ckpt"));
        var name = checkpoint.Tensors.Keys.First(k => k.StartsWith("weight/", StringComparison.Ordinal))["weight/".Length..];
        var y = checkpoint.Get($"trainingpoint/{name}", torch.CPU)!;
        var z = checkpoint.Get($"state/{name}/z", torch.CPU)!;
        var beta = torch.sigmoid(checkpoint.Get("raw/beta1", torch.CPU)!);
        var x = y + (1 - 1 / beta) * (z - y);
        Assert.True(checkpoint.Get($"weight/{name}", torch.CPU)!.allclose(x, rtol: 1e-5, atol: 1e-7), "the checkpoint's weights are not the average x");
        Assert.False(x.allclose(y), "x and y should differ by step 120");

        var resumed = Checkpointed("parts").ResumeFromCheckpoint().Run();
        Assert.Equal(uninterrupted.ValidationLoss, resumed.ValidationLoss);
        Assert.Equal(uninterrupted.TestLoss, resumed.TestLoss);
        Assert.Equal(JsonSerializer.Serialize(uninterrupted.FinalHyperparameters), JsonSerializer.Serialize(resumed.FinalHyperparameters));
        Assert.Equal(120, interrupted.StepsCompleted);
    }

    [Theory]
    [InlineData("DoG")]
    [InlineData("Prodigy")]
    [InlineData("DAdaptAdam")]
    [InlineData("DAdaptSgd")]
    [InlineData("ProdigySliced")]
    [InlineData("DoGAveraged")]
    public void A_rule_with_global_state_resumes_exactly_from_its_checkpoint(string rule)
    {
        IWeightUpdate Rule() => rule switch
        {
            "DoG" => new DoG(),
            "Prodigy" => new Prodigy(),
            // States that are not weight-shaped (slice_p), and an evaluation point of the rule's own.
            "ProdigySliced" => new Prodigy(sliceP: 3, biasCorrection: true),
            "DoGAveraged" => new DoG(layerWise: true, averaging: 8),
            "DAdaptAdam" => new DAdaptAdam(),
            _ => new DAdaptSgd(),
        };
        TuningRun Run(string name) =>
            TuningRun.Of(Tasks.Mlp, Rule(), Loss.MeanSquaredError).On(Tasks.Regression()).Tune(Method.OnePass(tune: ["learningRate"]))
                .ForSteps(200).WithBatchSize(32).WithSeed(3).CheckpointTo(Path.Combine(_folder, name + ".ckpt"), everyBlocks: 4);
        var uninterrupted = Run(rule + "-whole").Run();
        (Run(rule + "-parts") with { StopAfterBlocks = 9 }).Run();
        var resumed = Run(rule + "-parts").ResumeFromCheckpoint().Run();
        Assert.Equal(uninterrupted.ValidationLoss, resumed.ValidationLoss);
        Assert.Equal(JsonSerializer.Serialize(uninterrupted.FinalHyperparameters), JsonSerializer.Serialize(resumed.FinalHyperparameters));
    }

    [Fact]
    public void Out_of_range_settings_are_refused_naming_the_rule_and_the_setting()
    {
        var error = Assert.Throws<TrainTuneException>(() => new ScheduleFreeAdamW(beta1: 1.0));
        Assert.Contains("ScheduleFreeAdamW", error.Message);
        Assert.Contains("beta1", error.Message);
        error = Assert.Throws<TrainTuneException>(() => new ScheduleFreeSgd(momentum: 1.5));
        Assert.Contains("momentum", error.Message);
        error = Assert.Throws<TrainTuneException>(() => new Prodigy(weightDecay: -0.1));
        Assert.Contains("weightDecay", error.Message);
        error = Assert.Throws<TrainTuneException>(() => new Prodigy(d0: 0));
        Assert.Contains("d0", error.Message);
        error = Assert.Throws<TrainTuneException>(() => new DAdaptSgd(momentum: 1));
        Assert.Contains("momentum", error.Message);
        error = Assert.Throws<TrainTuneException>(() => new DoG(learningRate: 0));
        Assert.Contains("learningRate", error.Message);
        error = Assert.Throws<TrainTuneException>(() => new ScheduleFreeAdamW(warmupSteps: -1));
        Assert.Contains("warmupSteps", error.Message);

        // The same ranges hold for initial values given to a run.
        var run = TuningRun.Of(Tasks.Mlp, new ScheduleFreeAdamW(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(10);
        error = Assert.Throws<TrainTuneException>(() => run.StartingFrom(new Dictionary<string, double> { ["beta1"] = 1.0 }).Run());
        Assert.Contains("beta1", error.Message);
    }

    [Fact]
    public void A_tuned_hyperparameter_the_rule_does_not_have_is_refused_with_the_ones_it_has()
    {
        var run = TuningRun.Of(Tasks.Mlp, new Prodigy(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(10);
        var error = Assert.Throws<TrainTuneException>(() => run.Tune(Method.OnePass(tune: ["d0"])).Run());
        Assert.Contains("'d0'", error.Message);
        Assert.Contains("dCoefficient", error.Message);
        // The paper's methods name what they tune: Lorraine's weight decay exists, OursWdLrM's momentum does not.
        error = Assert.Throws<TrainTuneException>(() => ExperimentProtocol.Apply("OursWdLrM", run));
        Assert.Contains("momentum", error.Message);
        Assert.Contains("Prodigy", error.Message);
    }

    [Fact]
    public void A_global_rule_refuses_a_per_weight_hyperparameter_and_diff_through_opt_refuses_schedule_free()
    {
        var perWeight = TuningRun.Of(Tasks.Mlp, new DoG(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(10).WithPerWeight("learningRate");
        var error = Assert.Throws<TrainTuneException>(() => perWeight.Run());
        Assert.Contains("cannot be per weight", error.Message);
        Assert.Contains("DoG", error.Message);

        var unrolled = TuningRun.Of(Tasks.Mlp, new ScheduleFreeSgd(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20).Tune(Method.DiffThroughOpt());
        error = Assert.Throws<TrainTuneException>(() => unrolled.Run());
        Assert.Contains("Method.OnePass", error.Message);
    }

    [Fact]
    public void A_rule_of_ones_own_with_state_across_weights_trains_alone_but_a_population_refuses_it()
    {
        var run = TuningRun.Of(Tasks.Mlp, new Rules.NormalisedSgd(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(30);
        Assert.False(run.WithSeed(1).Run().Diverged);
        var error = Assert.Throws<TrainTuneException>(() => TuningRun.RunPopulation([run.WithSeed(1), run.WithSeed(2)]));
        Assert.Contains("NormalisedSgd", error.Message);
        Assert.Contains("share", error.Message);
        Assert.Contains("TrainTunePopulation=1", error.Message);
    }

    [Fact]
    public void Multi_start_refuses_a_learning_rate_free_rule_rather_than_drawing_sgd_values_for_it()
    {
        var run = TuningRun.Of(Tasks.Mlp, new Prodigy(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20).Tune(Method.BestOf(3, Method.OnePass()));
        var error = Assert.Throws<TrainTuneException>(() => run.Run());
        Assert.Contains("Prodigy", error.Message);
        Assert.Contains("TuningRun.RunPopulation", error.Message);
    }

    [Fact]
    public void Members_of_a_population_keep_their_own_global_state()
    {
        // Two members that differ only in seed: with a shared d or distance the first member would
        // not match its single run. (PopulationTests compares every method's members in full.)
        var run = ExperimentProtocol.Apply("DoG", Base().ForSteps(60));
        var population = TuningRun.RunPopulation([run.WithSeed(1), run.WithSeed(2)]);
        var single = run.WithSeed(1).Run();
        Assert.Equal(single.ValidationLoss, population[0].ValidationLoss, 5);
        Assert.NotEqual(population[0].ValidationLoss, population[1].ValidationLoss, 5);
    }

    [Fact]
    public void The_tuner_in_a_loop_evaluates_schedule_free_at_its_average()
    {
        var data = Tasks.Regression();
        torch.manual_seed(3);
        var model = Tasks.Mlp();
        // β tuned would move x after the last hyper step; with γ alone x is where L_V was taken.
        using var tuner = Tuner.For(model, Tasks.Mlp, new ScheduleFreeAdamW(learningRate: 0.01), Method.OnePass(tune: ["learningRate"]));
        for (var s = 0; s < 30; s++)
            tuner.Step(Loss.MeanSquaredError.Compute(model.call(data.Train.Inputs), data.Train.Targets),
                validationLoss: m => Loss.MeanSquaredError.Compute(m.call(data.Validation.Inputs), data.Validation.Targets));
        var y = model.parameters().Select(p => p.detach().clone()).ToArray();
        Tensor[] x;
        using (tuner.AtEvaluationPoint()) x = model.parameters().Select(p => p.detach().clone()).ToArray();
        Assert.True(x.Zip(y).Any(p => !p.First.allclose(p.Second)), "the evaluation point should differ from y");
        Assert.True(model.parameters().Zip(y).All(p => Same(p.First, p.Second)), "the weights should be back at y");
        // The history's validation losses are taken at x: the last one equals the loss at x then.
        using (torch.no_grad())
        using (tuner.AtEvaluationPoint())
        {
            var atX = Loss.MeanSquaredError.Compute(model.call(data.Validation.Inputs), data.Validation.Targets).item<float>();
            Assert.Equal(tuner.History[^1].ValidationLoss, atX, 5);
        }
    }
}
