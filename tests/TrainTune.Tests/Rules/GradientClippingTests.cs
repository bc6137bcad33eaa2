using TorchSharp;
using TrainTune.Tests.Hypergradients;
using TrainTune.Tests.Training;
using static TorchSharp.torch;

namespace TrainTune.Tests.Rules;

/// <summary>
/// Gradient clipping inside the weight update: the step against one computed by hand from the
/// flat weights' gradient, and the one-pass and Diff-through-Opt hypergradients through it
/// against central finite differences, in float64, with the clip active and inactive.
/// </summary>
public class GradientClippingTests
{
    static Learner Prepared(int copies = 0)
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new SgdMomentum(0.05, 0.6, 0.02), Loss.MeanSquaredError,
            copyFactory: TinyMlpProblem.Model);
        if (copies > 0) learner.Copies(copies);
        for (var s = 0; s < 3; s++) learner.UntrackedStep(problem.Train);
        return learner;
    }

    /// <summary>‖∇L_T‖ at the prepared weights, by autograd on the flat weights (independent of the learner).</summary>
    static double GradientNorm()
    {
        var problem = new TinyMlpProblem();
        var w = TinyMlpProblem.Flatten(Prepared().Weights).requires_grad_(true);
        return torch.autograd.grad([problem.TrainLoss(w)], [w])[0].norm().item<double>();
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void A_step_clipped_by_norm_is_the_step_on_g_times_c_over_its_norm(double fraction)
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new Sgd(learningRate: 0.1), Loss.MeanSquaredError);
        var w = TinyMlpProblem.Flatten(learner.Weights).requires_grad_(true);
        var g = torch.autograd.grad([problem.TrainLoss(w)], [w])[0];
        var norm = g.norm().item<double>();
        var c = fraction * norm;
        learner.Clipping = GradientClipping.ByNorm(c);
        learner.UntrackedStep(problem.Train);

        var expected = w.detach() - 0.1 * g * Math.Min(1, c / (norm + 1e-6));
        Assert.True((TinyMlpProblem.Flatten(learner.Weights) - expected).abs().max().item<double>() < 1e-15);
    }

    [Fact]
    public void A_step_clipped_by_value_clamps_each_element()
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new Sgd(learningRate: 0.1), Loss.MeanSquaredError);
        var w = TinyMlpProblem.Flatten(learner.Weights).requires_grad_(true);
        var g = torch.autograd.grad([problem.TrainLoss(w)], [w])[0];
        var c = 0.5 * g.abs().max().item<double>();
        learner.Clipping = GradientClipping.ByValue(c);
        learner.UntrackedStep(problem.Train);

        Assert.True(g.abs().gt(c).any().item<bool>(), "the clip should bind on some element");
        var expected = w.detach() - 0.1 * g.clamp(-c, c);
        Assert.True((TinyMlpProblem.Flatten(learner.Weights) - expected).abs().max().item<double>() < 1e-15);
    }

    /// <summary>L_V after <paramref name="steps"/> clipped steps from the prepared point with raw hyperparameter h moved by δ.</summary>
    static double Objective(GradientClipping clipping, int h, double delta, int steps)
    {
        var problem = new TinyMlpProblem();
        using var learner = Prepared();
        learner.Clipping = clipping;
        using (torch.no_grad())
            foreach (var raw in learner.Hyperparameters.Raw(h)) raw.add_(delta);
        learner.BeginBlock();
        for (var s = 0; s < steps; s++) learner.UntrackedStep(problem.Train);
        return learner.EvaluateLoss(problem.Validation)[0];
    }

    static void AssertMatchesFiniteDifferences(double actual, GradientClipping clipping, int h, int steps)
    {
        const double delta = 1e-6;
        var expected = (Objective(clipping, h, delta, steps) - Objective(clipping, h, -delta, steps)) / (2 * delta);
        Assert.True(Math.Abs(expected) > 1e-8, $"finite difference {expected} too small to check");
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-5, $"{clipping}, hyperparameter {h}: hypergradient {actual}, finite differences {expected}");
    }

    public static TheoryData<double, int> Cases()
    {
        var data = new TheoryData<double, int>();
        foreach (var fraction in new[] { 0.5, 2.0 })
            for (var h = 0; h < 3; h++) data.Add(fraction, h);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_one_pass_hypergradient_differentiates_through_the_clipping(double fraction, int h)
    {
        var clipping = GradientClipping.ByNorm(fraction * GradientNorm());
        var problem = new TinyMlpProblem();
        using var learner = Prepared();
        learner.Clipping = clipping;
        var result = learner.TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [h]);
        AssertMatchesFiniteDifferences(result.Hypergradient[0].item<double>(), clipping, h, steps: 1);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_diff_through_opt_hypergradient_differentiates_through_the_clipping(double fraction, int h)
    {
        var clipping = GradientClipping.ByNorm(fraction * GradientNorm());
        var problem = new TinyMlpProblem();
        using var learner = Prepared(copies: 3);
        learner.Clipping = clipping;
        var result = learner.UnrolledSteps([problem.Train, problem.Train, problem.Train], problem.Validation, [h]);
        AssertMatchesFiniteDifferences(result.Hypergradient[0].item<double>(), clipping, h, steps: 3);
    }

    /// <summary>
    /// With two Neumann terms the one-pass hypergradient uses ∂u/∂w, and so the clipping's
    /// derivative with respect to the weights: −ln 10 · uᵀ (v + (I − J)ᵀ v) for SGD's log10
    /// learning rate, J = ∂u/∂w built column by column from central differences of the clipped
    /// step computed by hand on the flat weights.
    /// </summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void The_one_pass_hypergradient_with_two_neumann_terms_equals_a_dense_computation_through_the_clipping(double fraction)
    {
        const double eta = 0.3;
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new Sgd(learningRate: eta), Loss.MeanSquaredError);
        var w0 = TinyMlpProblem.Flatten(learner.Weights);
        Tensor Gradient(Tensor w, Func<Tensor, Tensor> loss)
        {
            var leaf = w.detach().requires_grad_(true);
            return torch.autograd.grad([loss(leaf)], [leaf])[0].detach();
        }
        var c = fraction * Gradient(w0, problem.TrainLoss).norm().item<double>();
        Tensor Step(Tensor w)
        {
            var g = Gradient(w, problem.TrainLoss);
            return eta * g * Math.Min(1, c / (g.norm().item<double>() + 1e-6));
        }
        learner.Clipping = GradientClipping.ByNorm(c);
        var actual = learner.TrackedStep(problem.Train, problem.Validation, neumannTerms: 2, [0]).Hypergradient[0].item<double>();

        var u = Step(w0);
        var v = Gradient(w0 - u, problem.ValidationLoss);
        var n = (int)w0.numel();
        const double h = 1e-5;
        var jacobian = torch.stack(Enumerable.Range(0, n).Select(j =>
        {
            var e = torch.zeros_like(w0);
            e[j] = h;
            return (Step(w0 + e) - Step(w0 - e)) / (2 * h);
        }).ToArray(), dim: 1);
        var p = 2 * v - jacobian.t().matmul(v);
        var expected = -Math.Log(10) * u.dot(p).item<double>();
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-6, $"one-pass {actual}, dense {expected}");
    }

    [Fact]
    public void A_clipped_population_member_equals_its_single_run_and_the_record_says_how_it_clips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"traintune-{Guid.NewGuid():N}.jsonl");
        TuningRun Run(long seed) => TuningRun.Of(Tasks.Mlp, new SgdMomentum(0.05, 0.9, 1e-4), Loss.MeanSquaredError)
            .On(Tasks.Regression()).ForSteps(60).WithBatchSize(32).WithSeed(seed).InPrecision(ScalarType.Float64)
            .Tune(Method.OnePass()).WithGradientClipping(maxNorm: 0.05);
        var population = TuningRun.RunPopulation([Run(1).RecordTo(path), Run(2)]);
        var single = Run(2).Run();
        var unclipped = Run(2).WithGradientClipping().Run();

        Assert.Equal(single.ValidationLoss, population[1].ValidationLoss, 1e-9);
        Assert.NotEqual(unclipped.ValidationLoss, single.ValidationLoss, 1e-6);
        Assert.Contains("\"gradient_clipping\":\"norm 0.05\"", File.ReadLines(path).First());
        File.Delete(path);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void A_threshold_that_is_not_positive_is_refused_saying_what_to_do(double threshold)
    {
        var run = TuningRun.Of(Tasks.Mlp, new Sgd(), Loss.MeanSquaredError);
        var error = Assert.Throws<TrainTuneException>(() => run.WithGradientClipping(maxNorm: threshold));
        Assert.StartsWith($"WithGradientClipping: the largest norm maxNorm must be a positive number (0.25 for the paper's LSTM), not {threshold}", error.Message);
        Assert.Contains("leave it out", error.Message);
        Assert.Throws<TrainTuneException>(() => run.WithGradientClipping(maxValue: threshold));
        Assert.Contains("not both", Assert.Throws<TrainTuneException>(() => run.WithGradientClipping(maxNorm: 1, maxValue: 1)).Message);
    }
}
