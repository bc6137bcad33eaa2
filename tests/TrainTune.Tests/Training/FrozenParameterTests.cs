using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>
/// Frozen parameters (requires_grad = false) are left alone and take no part in the
/// hypergradient; the user mistakes that libtorch would answer by aborting the process are clear
/// errors instead, raised before libtorch is asked.
/// </summary>
public class FrozenParameterTests
{
    static readonly TrainingData Data = Tasks.Regression();

    // One set of starting tensors, so that every instance the factory builds is the same model.
    static readonly Tensor[] Start = MakeStart();

    static Tensor[] MakeStart()
    {
        var generator = new torch.Generator(5);
        return [torch.randn(16, 8, dtype: ScalarType.Float64, generator: generator) * 0.3, torch.randn(16, dtype: ScalarType.Float64, generator: generator) * 0.1,
            torch.randn(1, 16, dtype: ScalarType.Float64, generator: generator) * 0.3, torch.zeros(1, dtype: ScalarType.Float64)];
    }

    /// <summary>An MLP whose hidden layer is a frozen, pretrained feature map.</summary>
    static nn.Module<Tensor, Tensor> FrozenBackbone()
    {
        var model = Tasks.Mlp().to(ScalarType.Float64);
        var parameters = model.parameters().ToArray();
        using (torch.no_grad())
            for (var k = 0; k < 4; k++) parameters[k].copy_(Start[k]);
        parameters[0].requires_grad = false;
        parameters[1].requires_grad = false;
        return model;
    }

    /// <summary>The same function with the hidden layer a constant (buffers), not a parameter at all: the independent computation.</summary>
    sealed class FixedFeatures : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE1006 // RegisterComponents names the submodule after the field
        readonly TorchSharp.Modules.Linear output;
#pragma warning restore IDE1006
        readonly Tensor _weight, _bias;

        public FixedFeatures() : base(nameof(FixedFeatures))
        {
            // Instances are built inside dispose scopes (unrolled copies): the constants outlive them.
            _weight = Start[0].clone().DetachFromDisposeScope();
            _bias = Start[1].clone().DetachFromDisposeScope();
            output = nn.Linear(16, 1, dtype: ScalarType.Float64);
            using (torch.no_grad())
            {
                output.weight!.copy_(Start[2]);
                output.bias!.copy_(Start[3]);
            }
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => output.call(nn.functional.relu(nn.functional.linear(input, _weight, _bias)));
    }

    static TuningRun Run(Func<nn.Module<Tensor, Tensor>> model, Method method) =>
        TuningRun.Of(model, new SgdMomentum(1e-2, 0.5, 1e-4), Loss.MeanSquaredError).On(Data).ForSteps(60).WithBatchSize(32, 64)
            .InPrecision(ScalarType.Float64).WithSeed(3).Tune(method);

    [Theory]
    [InlineData("OnePass")]
    [InlineData("DiffThroughOpt")]
    public void A_frozen_backbone_trains_and_tunes_as_if_it_were_a_constant(string method)
    {
        var tune = method == "OnePass" ? Method.OnePass() : Method.DiffThroughOpt();
        var frozen = Run(FrozenBackbone, tune).Run();
        var constant = Run(() => new FixedFeatures(), tune).Run();
        Assert.Equal(constant.ValidationLoss, frozen.ValidationLoss, constant.ValidationLoss * 1e-12);
        foreach (var name in new[] { "learningRate", "momentum", "weightDecay" })
            Assert.Equal(constant.FinalHyperparameters[name].Value, frozen.FinalHyperparameters[name].Value, Math.Abs(constant.FinalHyperparameters[name].Value) * 1e-12);
        Assert.NotEqual(frozen.InitialHyperparameters["learningRate"].Value, frozen.FinalHyperparameters["learningRate"].Value);
    }

    [Fact]
    public void The_frozen_weights_are_left_as_they_were()
    {
        var model = FrozenBackbone();
        using var tuner = Tuner.For(model, FrozenBackbone, new SgdMomentum(1e-2, 0.5, 1e-4), Method.OnePass(stepsPerHyperstep: 2));
        for (var step = 0; step < 6; step++)
            tuner.Step(m => Loss.MeanSquaredError.Compute(m.call(Data.Train.Inputs.to(ScalarType.Float64)), Data.Train.Targets.to(ScalarType.Float64)),
                m => Loss.MeanSquaredError.Compute(m.call(Data.Validation.Inputs.to(ScalarType.Float64)), Data.Validation.Targets.to(ScalarType.Float64)));
        var parameters = model.parameters().ToArray();
        Assert.True(parameters[0].eq(Start[0]).all().item<bool>() && parameters[1].eq(Start[1]).all().item<bool>(), "the frozen layer changed");
        Assert.False(parameters[2].eq(Start[2]).all().item<bool>(), "the trainable layer did not train");
    }

    [Fact]
    public void A_model_with_every_parameter_frozen_is_refused()
    {
        static nn.Module<Tensor, Tensor> AllFrozen()
        {
            var model = Tasks.Mlp();
            foreach (var p in model.parameters()) p.requires_grad = false;
            return model;
        }
        var error = Assert.Throws<TrainTuneException>(() => Run(AllFrozen, Method.OnePass()).Run());
        Assert.Contains("Every parameter of the model", error.Message);
        Assert.Contains("frozen", error.Message);
    }

    [Fact]
    public void A_factory_that_returns_the_trained_model_is_refused_before_anything_runs()
    {
        var model = Tasks.Mlp().to(ScalarType.Float64);
        var error = Assert.Throws<TrainTuneException>(() => TuningRun.Of(() => model, new SgdMomentum(), Loss.MeanSquaredError).On(Data).ForSteps(20)
            .InPrecision(ScalarType.Float64).Run());
        Assert.Contains("returned the model being trained", error.Message);
        var another = Tasks.Mlp().to(ScalarType.Float64);
        Assert.Contains("returned the model being trained", Assert.Throws<TrainTuneException>(() => Tuner.For(another, () => another, new SgdMomentum())).Message);
    }

    [Fact]
    public void A_training_loss_from_another_instance_of_the_model_is_a_clear_error()
    {
        var model = Tasks.Mlp().to(ScalarType.Float64);
        var other = Tasks.Mlp().to(ScalarType.Float64);
        using var tuner = Tuner.For(model, () => Tasks.Mlp().to(ScalarType.Float64), new SgdMomentum(), Method.OnePass(stepsPerHyperstep: 3));
        var x = Data.Train.Inputs.to(ScalarType.Float64);
        var y = Data.Train.Targets.to(ScalarType.Float64);
        var error = Assert.Throws<TrainTuneException>(() => tuner.Step(Loss.MeanSquaredError.Compute(other.call(x), y)));
        Assert.Contains("does not come from the model being trained", error.Message);
        Assert.Equal(0, tuner.Steps);
    }
}
