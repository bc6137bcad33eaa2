using TorchSharp;
using TrainTune.Tests.Training;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hypergradients;

/// <summary>
/// The one-pass and Diff-through-Opt hypergradients through Conv2d → BatchNorm2d → ReLU →
/// MaxPool → Dropout → Linear, in float64, against central finite differences of the same
/// steps: the same batches and dropout masks (the same generator state), BatchNorm on batch
/// statistics in the steps and on its running statistics (held at the unperturbed run's, as the
/// hypergradient holds them: docs/ALGORITHM.md, "Models with state") in the validation loss.
/// </summary>
public class ConvBatchNormHypergradientTests
{
    static readonly Split Train = SmallCnn.Data(64, 1), Validation = SmallCnn.Data(32, 2);

    static Split Batch(int t) => new(Train.Inputs.narrow(0, 16 * t % 64, 16), Train.Targets.narrow(0, 16 * t % 64, 16));

    /// <summary>A learner two plain steps in, its unrolled instances already built, the generator at a known state.</summary>
    static Learner Prepared(int copies)
    {
        torch.manual_seed(3);
        var learner = new Learner(new SmallCnn(), new SmallCnn(), new SgdMomentum(0.05, 0.6, 0.02), Loss.CrossEntropy, copyFactory: () => new SmallCnn());
        if (copies > 0) learner.Copies(copies);
        torch.manual_seed(11);
        for (var t = 0; t < 2; t++) learner.UntrackedStep(Batch(t));
        return learner;
    }

    /// <summary>L_V after <paramref name="steps"/> plain steps with raw hyperparameter <paramref name="h"/> moved by <paramref name="delta"/>, BatchNorm's statistics set to <paramref name="statistics"/>.</summary>
    static double Objective(int h, double delta, int steps, Tensor[] statistics)
    {
        using var learner = Prepared(0);
        using (torch.no_grad())
            foreach (var raw in learner.Hyperparameters.Raw(h)) raw.add_(delta);
        learner.BeginBlock();
        for (var t = 2; t < 2 + steps; t++) learner.UntrackedStep(Batch(t));
        using (torch.no_grad())
            foreach (var (buffer, value) in learner.Model.buffers().Zip(statistics)) buffer.copy_(value);
        return learner.EvaluateLoss(Validation)[0];
    }

    static double FiniteDifference(int h, int steps, Tensor[] statistics)
    {
        const double delta = 1e-6;
        return (Objective(h, delta, steps, statistics) - Objective(h, -delta, steps, statistics)) / (2 * delta);
    }

    static void AssertClose(double actual, double expected)
    {
        Assert.True(Math.Abs(expected) > 1e-7, $"finite difference {expected} too small to check");
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-5, $"hypergradient {actual}, finite differences {expected}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void One_pass_with_one_neumann_term_is_the_derivative_of_one_step(int h)
    {
        using var learner = Prepared(0);
        var result = learner.TrackedStep(Batch(2), Validation, neumannTerms: 1, [h]);
        var statistics = learner.Model.buffers().Select(b => b.clone()).ToArray();
        AssertClose(result.Hypergradient[0].item<double>(), FiniteDifference(h, 1, statistics));
        // The validation loss it reports is the evaluation-mode loss at the new weights.
        Assert.Equal(learner.EvaluateLoss(Validation)[0], result.ValidationLoss.item<double>(), 12);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Diff_through_opt_over_three_steps_is_the_derivative_of_those_steps(int h)
    {
        using var learner = Prepared(3);
        var result = learner.UnrolledSteps([Batch(2), Batch(3), Batch(4)], Validation, [h]);
        var statistics = learner.Model.buffers().Select(b => b.clone()).ToArray();
        Assert.Equal(5, (long)learner.Model.buffers().Last().to(ScalarType.Float64).item<double>());
        AssertClose(result.Hypergradient[0].item<double>(), FiniteDifference(h, 3, statistics));
    }
}
