using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

public class BadInputTests
{
    sealed class NoParameters() : nn.Module<Tensor, Tensor>("NoParameters")
    {
        public override Tensor forward(Tensor input) => input.sum(1, keepdim: true);
    }

    static TrainTuneException Fails(TuningRun run) => Assert.Throws<TrainTuneException>(() => run.Run());

    static TuningRun Valid() => TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20);

    [Fact]
    public void Initial_value_outside_its_bounds_is_refused_with_the_bounds()
    {
        var error = Fails(TuningRun.Of(Tasks.Mlp, new SgdMomentum(learningRate: 2), Loss.MeanSquaredError).On(Tasks.Regression()));
        Assert.Contains("'learningRate'", error.Message);
        Assert.Contains("outside its bounds [1E-10, 1]", error.Message);
    }

    [Fact]
    public void Initial_value_invalid_for_its_transform_is_refused()
    {
        Assert.Contains("strictly between 0 and 1", Fails(Valid().StartingFrom(new Dictionary<string, double> { ["momentum"] = 1.0 })).Message);
        Assert.Contains("greater than 0", Fails(Valid().StartingFrom(new Dictionary<string, double> { ["weightDecay"] = -1e-4 })).Message);
        // The transforms' limits are values to hold (HeldValuesTests), not to tune from.
        Assert.Contains("cannot tune 'momentum' from 0", Fails(Valid().Tune(Method.OnePass()).StartingFrom(new Dictionary<string, double> { ["momentum"] = 0 })).Message);
        Assert.Contains("cannot tune 'weightDecay' from 0", Fails(Valid().Tune(Method.OnePass()).StartingFrom(new Dictionary<string, double> { ["weightDecay"] = 0 })).Message);
        Assert.Contains("No hyperparameter is named 'lr'", Fails(Valid().StartingFrom(new Dictionary<string, double> { ["lr"] = 0.1 })).Message);
    }

    [Fact]
    public void A_model_without_parameters_is_refused()
    {
        var error = Fails(TuningRun.Of(() => new NoParameters(), new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()));
        Assert.Contains("has no parameters", error.Message);
    }

    [Fact]
    public void A_loss_that_is_not_a_scalar_is_refused()
    {
        var perRow = new Loss("PerRow", (o, t) => (o - t).square(), (_, _) => null);
        var error = Fails(TuningRun.Of(Tasks.Mlp, new SgdMomentum(), perRow).On(Tasks.Regression()));
        Assert.Contains("must return a scalar", error.Message);
    }

    [Fact]
    public void Inputs_that_do_not_fit_the_model_are_refused_before_training()
    {
        var data = Tasks.Regression();
        Split Narrow(Split s) => s with { Inputs = s.Inputs.narrow(1, 0, 5) };
        var error = Fails(Valid().On(new TrainingData(Narrow(data.Train), Narrow(data.Validation), Narrow(data.Test!))));
        Assert.Contains("cannot take inputs of shape [400, 5]", error.Message);
    }

    [Fact]
    public void Targets_that_would_broadcast_are_refused()
    {
        var data = Tasks.Regression();
        Split Flat(Split s) => s with { Targets = s.Targets.flatten() };
        var error = Fails(Valid().On(new TrainingData(Flat(data.Train), Flat(data.Validation))));
        Assert.Contains("needs equal shapes", error.Message);
    }

    [Fact]
    public void Splits_with_different_shapes_or_row_counts_are_refused()
    {
        var data = Tasks.Regression();
        var rows = Fails(Valid().On(data with { Train = data.Train with { Targets = data.Train.Targets.narrow(0, 0, 10) } }));
        Assert.Contains("400 input rows but 10 target rows", rows.Message);
        var columns = Fails(Valid().On(data with { Validation = data.Validation with { Inputs = torch.randn(200, 7) } }));
        Assert.Contains("validation inputs have shape [200, 7]", columns.Message);
    }

    [Fact]
    public void Unknown_device_method_options_and_tuned_names_are_refused()
    {
        Assert.Contains("Unknown device 'tpu'", Fails(Valid().OnDevice("tpu")).Message);
        Assert.Contains("neumannTerms must be at least 1", Fails(Valid().Tune(Method.OnePass(neumannTerms: 0))).Message);
        Assert.Contains("at least one step", Fails(Valid().ForSteps(0)).Message);
        var name = Fails(Valid().Tune(Method.OnePass(tune: ["lr"])));
        Assert.Contains("cannot tune 'lr'", name.Message);
        Assert.Contains("learningRate, momentum, weightDecay", name.Message);
        if (!torch.cuda.is_available())
            Assert.Contains("CUDA is not available", Fails(Valid().OnDevice("cuda")).Message);
    }

    [Fact]
    public void Two_hyperparameters_with_one_name_are_refused()
    {
        var error = Assert.Throws<TrainTuneException>(() => new HyperparameterSet(
            [new HyperparameterSpec("a", 1), new HyperparameterSpec("a", 2)], [[2]], ScalarType.Float32, torch.CPU));
        Assert.Contains("Two hyperparameters are named 'a'", error.Message);
    }
}
