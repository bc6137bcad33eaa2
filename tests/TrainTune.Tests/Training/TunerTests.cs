using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>The tuner in a loop of the caller's own: the same results as TuningRun, its state saved and restored, and its bad input.</summary>
public class TunerTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-tuner-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static readonly TrainingData Data = Tasks.Regression();
    static readonly Split Train = new(Data.Train.Inputs.to(ScalarType.Float64), Data.Train.Targets.to(ScalarType.Float64));
    static readonly Split Validation = new(Data.Validation.Inputs.to(ScalarType.Float64), Data.Validation.Targets.to(ScalarType.Float64));

    static nn.Module<Tensor, Tensor> Model() => Tasks.Mlp().to(ScalarType.Float64);

    static Tensor Mse(nn.Module<Tensor, Tensor> model, Split split) => Loss.MeanSquaredError.Compute(model.call(split.Inputs), split.Targets);

    /// <summary>A hand-written loop: the model and the batches as TuningRun makes them for <paramref name="seed"/>.</summary>
    static (Tuner Tuner, nn.Module<Tensor, Tensor> Model, BatchSampler Batches) Loop(long seed, Method method)
    {
        torch.manual_seed(seed);
        var model = Model();
        var tuner = Tuner.For(model, Model, new SgdMomentum(1e-3, 0.5, 1e-4), method);
        return (tuner, model, new BatchSampler(Train, 32, seed));
    }

    [Theory]
    [InlineData("OnePass")]
    [InlineData("DiffThroughOpt")]
    [InlineData("Baydin")]
    public void A_hand_written_loop_with_the_tuner_gives_TuningRuns_results(string name)
    {
        var method = name switch
        {
            "OnePass" => Method.OnePass(),
            "DiffThroughOpt" => Method.DiffThroughOpt(),
            _ => Method.HypergradientDescent(),
        };
        var expected = TuningRun.Of(Model, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError).On(Data).Tune(method)
            .ForSteps(100).WithBatchSize(32).InPrecision(ScalarType.Float64).WithSeed(5).WithThreads(1).Run();

        var (tuner, model, batches) = Loop(5, method);
        using var owned = tuner;
        using var ownedBatches = batches;
        for (var step = 0; step < 100; step++)
        {
            var batch = batches.Next();
            tuner.Step(m => Mse(m, batch), m => Mse(m, Validation));
        }

        Assert.Equal(100, tuner.Steps);
        Assert.Equal(expected.History.Select(b => b.Step), tuner.History.Select(b => b.Step));
        Assert.Equal(expected.History.Select(b => b.TrainLoss), tuner.History.Select(b => b.TrainLoss));
        Assert.Equal(expected.History.Select(b => b.ValidationLoss), tuner.History.Select(b => b.ValidationLoss));
        foreach (var (key, value) in expected.FinalHyperparameters) Assert.Equal(value.Value, tuner.Hyperparameters[key].Value);
        Assert.Equal(expected.TrainLoss, Mse(model, Train).item<double>(), 12);
    }

    [Fact]
    public void The_loss_may_be_a_tensor_the_loop_computed_itself()
    {
        var (viaFunction, model1, batches1) = Loop(9, Method.OnePass());
        var (viaTensor, model2, batches2) = Loop(9, Method.OnePass());
        using (viaFunction) using (viaTensor) using (batches1) using (batches2)
        {
            for (var step = 0; step < 30; step++)
            {
                var (b1, b2) = (batches1.Next(), batches2.Next());
                viaFunction.Step(m => Mse(m, b1), m => Mse(m, Validation));
                viaTensor.Step(Mse(model2, b2), m => Mse(m, Validation));
            }
            Assert.Equal(viaFunction.Hyperparameters["learningRate"].Value, viaTensor.Hyperparameters["learningRate"].Value);
            Assert.Equal(3, viaTensor.History.Count);
            Assert.NotNull(viaTensor.LastHypergradientNorm);
        }
    }

    [Fact]
    public void Saved_state_restored_into_a_fresh_tuner_continues_exactly()
    {
        var state = Path.Combine(_folder, "tuner.bin");
        var (a, modelA, batchesA) = Loop(3, Method.OnePass());
        var (b, modelB, batchesB) = Loop(3, Method.OnePass());
        using (a) using (b) using (batchesA) using (batchesB)
        {
            for (var step = 0; step < 40; step++)
            {
                var batch = batchesA.Next();
                batchesB.Next();
                a.Step(m => Mse(m, batch), m => Mse(m, Validation));
            }
            a.Save(state);
            using (torch.no_grad())
                foreach (var (p, q) in modelB.parameters().Zip(modelA.parameters())) p.copy_(q);
            b.Load(state);
            Assert.Equal(40, b.Steps);
            for (var step = 0; step < 40; step++)
            {
                var (batch1, batch2) = (batchesA.Next(), batchesB.Next());
                a.Step(m => Mse(m, batch1), m => Mse(m, Validation));
                b.Step(m => Mse(m, batch2), m => Mse(m, Validation));
            }
            foreach (var (key, value) in a.Hyperparameters) Assert.Equal(value.Value, b.Hyperparameters[key].Value);
        }
    }

    [Fact]
    public void The_state_of_another_model_or_method_is_refused_and_nothing_changes()
    {
        var state = Path.Combine(_folder, "tuner.bin");
        var (a, _, batches) = Loop(3, Method.OnePass());
        using (a) using (batches)
        {
            for (var step = 0; step < 10; step++)
            {
                var batch = batches.Next();
                a.Step(m => Mse(m, batch), m => Mse(m, Validation));
            }
            a.Save(state);
        }
        static nn.Module<Tensor, Tensor> Wider() => nn.Sequential(("hidden", nn.Linear(8, 32)), ("relu", nn.ReLU()), ("output", nn.Linear(32, 1))).to(ScalarType.Float64);
        using var other = Tuner.For(Wider(), Wider, new SgdMomentum(1e-3, 0.5, 1e-4), Method.OnePass());
        var before = other.Hyperparameters;
        var error = Assert.Throws<TrainTuneException>(() => other.Load(state));
        Assert.Contains("it was saved from a different model", error.Message);
        Assert.Equal(before["learningRate"].Value, other.Hyperparameters["learningRate"].Value);
        Assert.Equal(0, other.Steps);

        using var fixedTuner = Tuner.For(Model(), Model, new SgdMomentum(1e-3, 0.5, 1e-4), Method.Fixed());
        Assert.Contains("holds the state of a OnePass tuner, not of this Fixed one", Assert.Throws<TrainTuneException>(() => fixedTuner.Load(state)).Message);
    }

    [Fact]
    public void Bad_losses_are_clear_errors()
    {
        var model = Model();
        using var tuner = Tuner.For(model, Model, new SgdMomentum(), Method.OnePass(stepsPerHyperstep: 2));
        Assert.Contains("does not depend on the model's weights", Assert.Throws<TrainTuneException>(() => tuner.Step(torch.tensor(1.0))).Message);
        Assert.Contains("must be a scalar", Assert.Throws<TrainTuneException>(() => tuner.Step((model.call(Train.Inputs) - Train.Targets).square())).Message);
        Assert.Equal(0, tuner.Steps);
        tuner.Step(Mse(model, Train));
        Assert.Contains("needs the validation loss", Assert.Throws<TrainTuneException>(() => tuner.Step(Mse(model, Train))).Message);
        Assert.Contains("does not use the model it is given", Assert.Throws<TrainTuneException>(() => tuner.Step(Mse(model, Train), _ => Mse(model, Validation))).Message);
        Assert.Contains("The validation loss is a tensor of shape", Assert.Throws<TrainTuneException>(() => tuner.Step(Mse(model, Train), m => (m.call(Validation.Inputs) - Validation.Targets).square())).Message);
        Assert.Equal(1, tuner.Steps);
        tuner.Step(Mse(model, Train), m => Mse(m, Validation));
        Assert.Equal(2, tuner.Steps);
        Assert.Single(tuner.History);

        using var unrolled = Tuner.For(Model(), Model, new SgdMomentum(), Method.DiffThroughOpt());
        Assert.Contains("pass the training loss as a function of the model", Assert.Throws<TrainTuneException>(() => unrolled.Step(torch.tensor(1.0))).Message);
    }
}
