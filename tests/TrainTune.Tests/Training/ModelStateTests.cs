using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>
/// Models with buffers, modes and randomness (a CNN with BatchNorm and Dropout): weight steps in
/// training mode, every loss the tuner reports or differentiates on another instance in
/// evaluation mode with the model's buffers, BatchNorm's statistics updated exactly once per
/// weight step, and resumes that are exact (docs/ALGORITHM.md, "Models with state").
/// </summary>
public class ModelStateTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-state-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static readonly TrainingData Data = SmallCnn.Task();

    static Method Named(string name, int stepsPerBlock = 10) => name switch
    {
        "Fixed" => Method.Fixed(stepsPerBlock),
        "OnePass" => Method.OnePass(stepsPerBlock),
        "DiffThroughOpt" => Method.DiffThroughOpt(stepsPerBlock, unrolledSteps: 3),
        "Baydin" => Method.HypergradientDescent(stepsPerBlock: stepsPerBlock),
        "LearningRateMultiplier" => Method.LearningRateMultiplier(1.1, stepsPerBlock),
        _ => throw new ArgumentException(name),
    };

    static SmallCnn Seeded(ForwardCounter? counter = null)
    {
        torch.manual_seed(1);
        return new SmallCnn(counter);
    }

    static Split Batch(Split split, int t) => new(split.Inputs.narrow(0, 16 * t % 64, 16).clone(), split.Targets.narrow(0, 16 * t % 64, 16).clone());

    static Tensor CrossEntropy(nn.Module<Tensor, Tensor> model, Split batch) => nn.functional.cross_entropy(model.call(batch.Inputs), batch.Targets);

    /// <summary>BatchNorm's count of the batches whose statistics it took in.</summary>
    static long Tracked(SmallCnn model) => (long)model.Norm.num_batches_tracked!.to(ScalarType.Float64).item<double>();

    static bool Evaluating(nn.Module<Tensor, Tensor> model) => !model.training && model.modules().All(m => !m.training);

    [Theory]
    [InlineData("Fixed")]
    [InlineData("OnePass")]
    [InlineData("DiffThroughOpt")]
    [InlineData("Baydin")]
    [InlineData("LearningRateMultiplier")]
    public void Every_method_updates_batch_norm_once_per_weight_step_and_evaluates_in_evaluation_mode(string method)
    {
        var counter = new ForwardCounter();
        // 25 steps: two full blocks and a short last one; the shape probe runs before them.
        var result = TuningRun.Of(() => new SmallCnn(counter), new SgdMomentum(0.05, 0.5, 1e-4), Loss.CrossEntropy).On(Data)
            .Tune(Named(method)).ForSteps(25).WithBatchSize(16, 16).InPrecision(ScalarType.Float64).WithSeed(4).Run();
        Assert.False(result.Diverged);
        Assert.Equal(25, counter.Training);
        Assert.True(counter.Evaluation > 0, "the validation losses are computed in evaluation mode");
    }

    [Theory]
    [InlineData("Fixed")]
    [InlineData("OnePass")]
    [InlineData("DiffThroughOpt")]
    public void In_a_loop_of_ones_own_the_steps_and_the_reported_loss_equal_a_hand_computation(string method)
    {
        const double rate = 0.1;
        const int steps = 5;
        var counter = new ForwardCounter();
        var model = Seeded(counter);
        var hand = Seeded();
        var given = new List<(nn.Module<Tensor, Tensor> Instance, bool Evaluating)>();
        using var tuner = Tuner.For(model, () => new SmallCnn(counter), new Sgd(rate), Named(method, steps));
        torch.manual_seed(42);
        for (var t = 0; t < steps; t++)
        {
            // The batch lives in the step's own scope, as in samples/CustomLoop.
            using var scope = torch.NewDisposeScope();
            var batch = Batch(Data.Train, t);
            tuner.Step(m => CrossEntropy(m, batch), m =>
            {
                given.Add((m, Evaluating(m)));
                return CrossEntropy(m, Data.Validation);
            });
        }

        // By hand: the same dropout masks (the same generator state), plain SGD in training mode.
        torch.manual_seed(42);
        var parameters = hand.parameters().ToArray();
        for (var t = 0; t < steps; t++)
        {
            var batch = Batch(Data.Train, t);
            var grads = torch.autograd.grad([CrossEntropy(hand, batch)], parameters);
            using var _ = torch.no_grad();
            for (var k = 0; k < parameters.Length; k++) parameters[k].sub_(rate * grads[k]);
        }
        hand.eval();
        double expected;
        using (torch.no_grad()) expected = CrossEntropy(hand, Data.Validation).item<double>();

        foreach (var (actual, reference) in model.parameters().Zip(hand.parameters()))
            Assert.True((actual - reference).abs().max().item<double>() < 1e-12);
        foreach (var (actual, reference) in model.buffers().Zip(hand.buffers()))
            Assert.True((actual.to(ScalarType.Float64) - reference.to(ScalarType.Float64)).abs().max().item<double>() < 1e-12);
        Assert.Equal(steps, Tracked(model));
        Assert.Equal(steps, counter.Training);
        Assert.Equal(expected, tuner.History.Single().ValidationLoss, 12);
        Assert.NotEmpty(given);
        Assert.All(given, g => Assert.NotSame(model, g.Instance));
        Assert.All(given, g => Assert.True(g.Evaluating, "the validation loss is computed with every layer in evaluation mode"));
        Assert.True(model.training && model.Norm.training, "the model stays in training mode");
    }

    [Fact]
    public void A_validation_loss_that_switches_to_training_mode_leaves_neither_the_model_nor_the_next_evaluation_so()
    {
        var model = Seeded();
        var atEntry = new List<bool>();
        using var tuner = Tuner.For(model, () => new SmallCnn(), new Sgd(0.1), Method.Fixed(4));
        for (var t = 0; t < 8; t++)
        {
            var batch = Batch(Data.Train, t);
            tuner.Step(m => CrossEntropy(m, batch), m =>
            {
                atEntry.Add(Evaluating(m));
                m.train();
                return CrossEntropy(m, Data.Validation);
            });
        }
        Assert.Equal([true, true], atEntry);
        Assert.Equal(8, Tracked(model));
    }

    [Theory]
    [InlineData("OnePass")]
    [InlineData("DiffThroughOpt")]
    public void Layers_the_user_keeps_in_evaluation_mode_stay_so_and_their_statistics_frozen(string method)
    {
        var counter = new ForwardCounter();
        var model = Seeded(counter);
        model.Norm.eval();
        var before = model.Norm.running_mean!.clone();
        using var tuner = Tuner.For(model, () => new SmallCnn(counter), new Sgd(0.1), Named(method, 4));
        for (var t = 0; t < 8; t++)
        {
            var batch = Batch(Data.Train, t);
            tuner.Step(m => CrossEntropy(m, batch), m => CrossEntropy(m, Data.Validation));
        }
        Assert.True(model.training);
        Assert.False(model.Norm.training);
        Assert.Equal(0, counter.Training);
        Assert.Equal(0, Tracked(model));
        Assert.True(model.Norm.running_mean!.eq(before).all().item<bool>());
        Assert.Equal(2, tuner.History.Count);
    }

    [Fact]
    public void A_model_in_evaluation_mode_is_refused_with_what_to_do()
    {
        var model = Seeded();
        model.eval();
        using var tuner = Tuner.For(model, () => new SmallCnn(), new Sgd(0.1), Method.Fixed(4));
        var batch = Batch(Data.Train, 0);
        var error = Assert.Throws<TrainTuneException>(() => tuner.Step(m => CrossEntropy(m, batch)));
        Assert.Contains("evaluation mode", error.Message);
        Assert.Contains("model.train()", error.Message);
        Assert.Equal(0, tuner.Steps);

        var run = TuningRun.Of(() => { var m = new SmallCnn(); m.eval(); return m; }, new Sgd(0.1), Loss.CrossEntropy).On(Data).ForSteps(5).InPrecision(ScalarType.Float64);
        var runError = Assert.Throws<TrainTuneException>(() => run.Run());
        Assert.Contains("evaluation mode", runError.Message);
    }

    [Fact]
    public void A_population_refuses_a_model_with_batch_norm_clearly()
    {
        var run = TuningRun.Of(() => new SmallCnn(), new Sgd(0.1), Loss.CrossEntropy).On(Data).ForSteps(5).InPrecision(ScalarType.Float64);
        var error = Assert.Throws<TrainTuneException>(() => TuningRun.RunPopulation([run.WithSeed(1), run.WithSeed(2)]));
        Assert.Contains("SmallCnn", error.Message);
    }

    [Theory]
    [InlineData("OnePass")]
    [InlineData("DiffThroughOpt")]
    public void A_run_with_batch_norm_and_dropout_resumes_exactly(string method)
    {
        TuningRun Of(string name) => TuningRun.Of(() => new SmallCnn(), new SgdMomentum(0.05, 0.5, 1e-4), Loss.CrossEntropy).On(Data)
            .Tune(Named(method)).ForSteps(60).WithBatchSize(16, 16).InPrecision(ScalarType.Float64).WithSeed(6)
            .CheckpointTo(Path.Combine(_folder, name + ".ckpt"), everyBlocks: 2);
        var uninterrupted = Of("whole").Run();
        (Of("parts") with { StopAfterBlocks = 4 }).Run();
        var resumed = Of("parts").ResumeFromCheckpoint().Run();
        Assert.Equal(uninterrupted.TrainLoss, resumed.TrainLoss);
        Assert.Equal(uninterrupted.TestLoss, resumed.TestLoss);
        Assert.Equal(uninterrupted.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
        Assert.Equal(JsonSerializer.Serialize(uninterrupted.FinalHyperparameters), JsonSerializer.Serialize(resumed.FinalHyperparameters));
    }

    [Fact]
    public void A_tuners_saved_state_keeps_the_batch_norm_statistics()
    {
        var model = Seeded();
        var path = Path.Combine(_folder, "tuner.ckpt");
        using (var tuner = Tuner.For(model, () => new SmallCnn(), new Sgd(0.1), Method.OnePass(5)))
        {
            for (var t = 0; t < 10; t++)
            {
                var batch = Batch(Data.Train, t);
                tuner.Step(m => CrossEntropy(m, batch), m => CrossEntropy(m, Data.Validation));
            }
            tuner.Save(path);
        }
        // The weights are the model's to save: here copied; the statistics come with the tuner's state.
        var restored = Seeded();
        using (torch.no_grad())
            foreach (var (to, from) in restored.parameters().Zip(model.parameters())) to.copy_(from);
        using var loaded = Tuner.For(restored, () => new SmallCnn(), new Sgd(0.1), Method.OnePass(5));
        loaded.Load(path);
        foreach (var (actual, saved) in restored.buffers().Zip(model.buffers()))
            Assert.True(actual.eq(saved).all().item<bool>());
        Assert.Equal(10, Tracked(restored));
    }

    /// <summary>A model whose parameters are made from plain tensors, as users write them by hand.</summary>
    sealed class Handmade : nn.Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Parameter _weight, _bias;

        public Handmade() : base(nameof(Handmade))
        {
            _weight = new TorchSharp.Modules.Parameter(torch.full(1, 8, 0.1, dtype: ScalarType.Float64));
            _bias = new TorchSharp.Modules.Parameter(torch.zeros(1, dtype: ScalarType.Float64));
            register_parameter("weight", _weight);
            register_parameter("bias", _bias);
        }

        public override Tensor forward(Tensor input) => nn.functional.linear(input, _weight, _bias);
    }

    [Fact]
    public void Diff_through_opt_tunes_a_handmade_model_in_a_loop_with_a_scope_per_step()
    {
        var data = Tasks.Regression();
        var x = data.Train.Inputs.to(ScalarType.Float64);
        var y = data.Train.Targets.to(ScalarType.Float64);
        var model = new Handmade();
        using var tuner = Tuner.For(model, () => new Handmade(), new Sgd(0.01), Method.DiffThroughOpt(4, unrolledSteps: 3));
        for (var t = 0; t < 12; t++)
        {
            using var scope = torch.NewDisposeScope();
            var rows = x.narrow(0, 32 * t % 384, 32).clone();
            var targets = y.narrow(0, 32 * t % 384, 32).clone();
            tuner.Step(m => (m.call(rows) - targets).square().mean(), m => (m.call(x) - y).square().mean());
        }
        Assert.Equal(3, tuner.History.Count);
        Assert.All(tuner.History, h => Assert.True(h.HypergradientNorm > 0));
        Assert.NotEqual(0.01, tuner.Hyperparameters["learningRate"].Value);
    }
}
