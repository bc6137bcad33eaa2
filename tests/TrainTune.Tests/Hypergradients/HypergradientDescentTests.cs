using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hypergradients;

public class HypergradientDescentTests
{
    [Fact]
    public void Baydins_hypergradient_is_minus_the_dot_product_of_consecutive_gradients()
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        const double eta = 0.05, kappa = 0.001;
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new Sgd(eta), Loss.MeanSquaredError);
        var tuner = (HypergradientDescentMethod.Tuner)Method.HypergradientDescent(kappa).Start(learner);

        // Independent: w0, g0 = ∇L(w0), w1 = w0 − η g0, g1 = ∇L(w1), h = −g1·g0.
        var w0 = TinyMlpProblem.Flatten(learner.Weights).requires_grad_(true);
        var g0 = torch.autograd.grad([problem.TrainLoss(w0)], [w0])[0];
        var w1 = (w0 - eta * g0).detach().requires_grad_(true);
        var g1 = torch.autograd.grad([problem.TrainLoss(w1)], [w1])[0];
        var expected = -(g1 * g0).sum().item<double>();

        tuner.Step(learner, learner.LossOn(problem.Train));
        Assert.Null(tuner.LastHypergradientValue);
        Assert.Equal(Math.Log10(eta), learner.Hyperparameters.Raw(0)[0].item<double>(), 12);
        tuner.Step(learner, learner.LossOn(problem.Train));

        Assert.True(TinyMlpProblem.RelativeError(tuner.LastHypergradientValue!.Value, expected) < 1e-10, $"h {tuner.LastHypergradientValue}, closed form {expected}");
        Assert.Equal(Math.Log10(eta) - kappa * expected, learner.Hyperparameters.Raw(0)[0].item<double>(), 12);
        tuner.Dispose();
    }

    [Fact]
    public void With_a_learning_rate_per_group_each_group_moves_by_its_own_weights_alignment()
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        const double eta = 0.05, kappa = 0.001;
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new Sgd(eta), Loss.MeanSquaredError,
            groups: [ParameterGroup.Matching("first", "0.*"), ParameterGroup.Rest("second")], perGroup: ["learningRate"]);
        var tuner = (HypergradientDescentMethod.Tuner)Method.HypergradientDescent(kappa).Start(learner);

        var w0 = TinyMlpProblem.Flatten(learner.Weights).requires_grad_(true);
        var g0 = torch.autograd.grad([problem.TrainLoss(w0)], [w0])[0];
        var w1 = (w0 - eta * g0).detach().requires_grad_(true);
        var g1 = torch.autograd.grad([problem.TrainLoss(w1)], [w1])[0];
        // ∂L/∂η of each group: the first layer is elements 0–8 of the flat vector, the second 9–12.
        var alignment = -(g1 * g0);
        var expected = new[] { alignment.narrow(0, 0, 9).sum().item<double>(), alignment.narrow(0, 9, 4).sum().item<double>() };

        tuner.Step(learner, learner.LossOn(problem.Train));
        tuner.Step(learner, learner.LossOn(problem.Train));
        var raws = learner.Hyperparameters.Raw(0);
        for (var group = 0; group < 2; group++)
            Assert.Equal(Math.Log10(eta) - kappa * expected[group], raws[group].item<double>(), 12);
        Assert.True(Math.Abs(expected[0] - expected[1]) > 1e-6, "the groups' alignments should differ for the test to tell them apart");
        tuner.Dispose();
    }

    [Fact]
    public void Baydin_needs_a_log10_learning_rate()
    {
        var run = TuningRun.Of(Training.Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Training.Tasks.Regression())
            .Tune(new HypergradientDescentMethod(LearningRate: "momentum"));
        Assert.Contains("tunes a log10 hyperparameter named 'momentum', which the rule SgdMomentum does not have", Assert.Throws<TrainTuneException>(() => run.Run()).Message);
    }

    [Fact]
    public void Baydin_moves_the_learning_rate_during_a_run_and_leaves_the_rest()
    {
        var result = ExperimentProtocol.Apply("Baydin", TuningRun.Of(Training.Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError)
            .On(Training.Tasks.Regression()).ForSteps(300)).Run();
        Assert.False(result.Diverged);
        Assert.NotEqual(1e-3, result.FinalHyperparameters["learningRate"].Value, 6);
        Assert.Equal(0.5, result.FinalHyperparameters["momentum"].Value, 6);
        Assert.Equal(1e-4, result.FinalHyperparameters["weightDecay"].Value, 9);
    }
}
