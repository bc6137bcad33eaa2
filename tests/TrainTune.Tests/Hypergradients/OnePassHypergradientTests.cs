using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hypergradients;

public class OnePassHypergradientTests
{
    static readonly double Ln10 = Math.Log(10);
    const double LearningRate = 0.05, Momentum = 0.6, WeightDecay = 0.02;

    /// <summary>
    /// A learner on the tiny MLP after <paramref name="untrackedSteps"/> untracked steps, and
    /// the same state reproduced by the explicit implementation: (w, b).
    /// </summary>
    static (Learner Learner, Tensor W, Tensor? B, Tensor X) Prepare(TinyMlpProblem problem, int untrackedSteps, bool perWeight = false)
    {
        torch.manual_seed(3);
        var model = TinyMlpProblem.Model();
        var learner = new Learner(model, TinyMlpProblem.Model(), new SgdMomentum(LearningRate, Momentum, WeightDecay, perWeight), Loss.MeanSquaredError);
        var x = torch.tensor(new[] { Math.Log10(LearningRate), Math.Log(Momentum / (1 - Momentum)), Math.Log10(WeightDecay) }, dtype: ScalarType.Float64);
        var w = TinyMlpProblem.Flatten(learner.Weights).requires_grad_(true);
        Tensor? b = null;
        for (var s = 0; s < untrackedSteps; s++)
        {
            learner.UntrackedStep(problem.Train);
            var next = problem.NextVelocity(w, x, b);
            var u = problem.Update(w, x, b, createGraph: false);
            b = next.detach();
            w = (w - u).detach().requires_grad_(true);
        }
        Assert.Equal(0, (TinyMlpProblem.Flatten(learner.Weights) - w).abs().max().item<double>(), 12);
        return (learner, w, b, x);
    }

    [Fact]
    public void Neumann_truncation_equals_an_explicit_dense_sum_of_powers_of_the_jacobian()
    {
        var problem = new TinyMlpProblem();
        const int terms = 6;
        var (learner, w, b, x) = Prepare(problem, untrackedSteps: 2);
        var result = learner.TrackedStep(problem.Train, problem.Validation, terms, [0, 1, 2]);

        // Dense: J = ∂u/∂w built column by column (column k = ∂(Jᵀz)_k/∂z), and ∂u/∂x.
        var xLeaf = x.clone().requires_grad_(true);
        var u = problem.Update(w, xLeaf, b, createGraph: true);
        var n = TinyMlpProblem.WeightCount;
        var z = torch.zeros(n, dtype: ScalarType.Float64, requires_grad: true);
        var jacobianTransposeTimesZ = torch.autograd.grad([u], [w], [z], create_graph: true, retain_graph: true)[0];
        var jacobian = torch.zeros(n, n, dtype: ScalarType.Float64);
        for (var k = 0; k < n; k++)
            jacobian[.., k] = torch.autograd.grad([jacobianTransposeTimesZ[k]], [z], retain_graph: true, allow_unused: true)[0];
        var dudx = torch.zeros(n, 3, dtype: ScalarType.Float64);
        for (var r = 0; r < n; r++)
            dudx[r] = torch.autograd.grad([u[r]], [xLeaf], retain_graph: true)[0];

        var wNew = (w - u).detach().requires_grad_(true);
        var v = torch.autograd.grad([problem.ValidationLoss(wNew)], [wNew])[0];
        var step = torch.eye(n, dtype: ScalarType.Float64) - jacobian;
        var p = torch.zeros(n, dtype: ScalarType.Float64);
        var power = torch.eye(n, dtype: ScalarType.Float64);
        for (var j = 0; j < terms; j++)
        {
            p += power.t().matmul(v);
            power = step.matmul(power);
        }
        var expected = -dudx.t().matmul(p);

        var actual = torch.stack(result.Hypergradient.Select(h => h.reshape(1)).ToArray()).flatten();
        var error = ((actual - expected).norm() / expected.norm()).item<double>();
        Assert.True(error < 1e-6, $"relative error {error}: runtime {actual.str()}, dense {expected.str()}");
        Assert.True(expected.abs().min().item<double>() > 1e-6, "every hyperparameter should have a non-trivial hypergradient here");
    }

    [Theory]
    [InlineData(0, "log10 learning rate")]
    [InlineData(1, "logit momentum")]
    [InlineData(2, "log10 weight decay")]
    public void One_tracked_step_hypergradient_matches_central_finite_differences(int hyperparameter, string what)
    {
        var problem = new TinyMlpProblem();
        var (learner, w, b, x) = Prepare(problem, untrackedSteps: 3);
        var result = learner.TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [hyperparameter]);
        var actual = result.Hypergradient[0].item<double>();

        // With one Neumann term the method gives the exact derivative of L_V(w − u(x, w)) at fixed w and b.
        double Objective(double delta)
        {
            var shifted = x.clone();
            shifted[hyperparameter] += delta;
            var wRequiring = w.detach().requires_grad_(true);
            var u = problem.Update(wRequiring, shifted, b, createGraph: false);
            using var _ = torch.no_grad();
            return problem.ValidationLoss(wRequiring - u).item<double>();
        }
        const double h = 1e-5;
        var expected = (Objective(h) - Objective(-h)) / (2 * h);
        Assert.True(Math.Abs(expected) > 1e-6, $"finite difference for {what} is too small to be a meaningful check: {expected}");
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-6, $"{what}: runtime {actual}, finite differences {expected}");
    }

    [Fact]
    public void Per_weight_learning_rates_all_equal_sum_to_the_scalar_hypergradient()
    {
        var problem = new TinyMlpProblem();
        var (scalar, _, _, _) = Prepare(problem, untrackedSteps: 2);
        var (perWeight, _, _, _) = Prepare(problem, untrackedSteps: 2, perWeight: true);
        var expected = scalar.TrackedStep(problem.Train, problem.Validation, 5, [0, 1, 2]);
        var actual = perWeight.TrackedStep(problem.Train, problem.Validation, 5, [0, 1, 2]);

        var weightCount = perWeight.Weights.Count;
        Assert.Equal(weightCount + 2, actual.Hypergradient.Count);
        for (var k = 0; k < weightCount; k++)
            Assert.Equal(perWeight.Weights[k].shape, actual.Hypergradient[k].shape);
        var summed = actual.Hypergradient.Take(weightCount).Select(g => g.sum().item<double>()).Sum();
        var scalarLearningRate = expected.Hypergradient[0].item<double>();
        Assert.True(TinyMlpProblem.RelativeError(summed, scalarLearningRate) < 1e-10, $"summed {summed}, scalar {scalarLearningRate}");
        for (var h = 1; h < 3; h++)
        {
            var (a, e) = (actual.Hypergradient[weightCount + h - 1].item<double>(), expected.Hypergradient[h].item<double>());
            Assert.True(TinyMlpProblem.RelativeError(a, e) < 1e-10, $"hyperparameter {h}: per-weight run {a}, scalar run {e}");
        }
    }

    [Fact]
    public void Many_neumann_terms_match_the_implicit_function_theorem_on_ridge_regression()
    {
        // L_T(w) = mean((Xw − y)²); SGD with weight decay ξ has its fixed point at
        // (H + ξI) w* = (2/n) Xᵀy with H = (2/n) XᵀX, so dw*/dξ = −(H + ξI)⁻¹ w*.
        var generator = new torch.Generator(11);
        const int n = 40, m = 25, d = 4;
        var inputs = torch.randn(n, d, dtype: ScalarType.Float64, generator: generator);
        var targets = inputs.matmul(torch.randn(d, 1, dtype: ScalarType.Float64, generator: generator)) + 0.3 * torch.randn(n, 1, dtype: ScalarType.Float64, generator: generator);
        var validationInputs = torch.randn(m, d, dtype: ScalarType.Float64, generator: generator);
        var validationTargets = torch.randn(m, 1, dtype: ScalarType.Float64, generator: generator);
        const double weightDecay = 0.3;

        var hessian = 2.0 / n * inputs.t().matmul(inputs);
        var regularised = hessian + weightDecay * torch.eye(d, dtype: ScalarType.Float64);
        var wStar = torch.linalg.solve(regularised, 2.0 / n * inputs.t().matmul(targets));
        var validationGradient = 2.0 / m * validationInputs.t().matmul(validationInputs.matmul(wStar) - validationTargets);
        var dwdxi = -torch.linalg.solve(regularised, wStar);
        var expected = (validationGradient * dwdxi).sum().item<double>() * weightDecay * Ln10;

        // η = 1 / λmax keeps I − η(H + ξI) a contraction; 400 terms leave (1 − λmin/λmax)^400 ≪ 1e-4.
        var eigenvalues = torch.linalg.eigvalsh(regularised);
        var learningRate = 1 / eigenvalues.max().item<double>();
        var contraction = 1 - eigenvalues.min().item<double>() * learningRate;
        Assert.True(Math.Pow(contraction, 400) < 1e-8);

        Func<nn.Module<Tensor, Tensor>> factory = () => nn.Linear(d, 1, hasBias: false).to(ScalarType.Float64);
        var learner = new Learner(factory(), factory(), new SgdMomentum(learningRate, 0.5, weightDecay), Loss.MeanSquaredError);
        using (torch.no_grad()) learner.Weights[0].copy_(wStar.t());
        var result = learner.TrackedStep(new Split(inputs, targets), new Split(validationInputs, validationTargets), 400, [0, 2]);

        var actual = result.Hypergradient[1].item<double>();
        Assert.True(Math.Abs(expected) > 1e-3);
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-4, $"runtime {actual}, implicit function theorem {expected}");
        // At the fixed point u = 0 does not depend on η.
        Assert.True(Math.Abs(result.Hypergradient[0].item<double>()) < 1e-8);
    }
}

public class GeneratedRuleTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Generated_sgd_momentum_gives_the_hand_written_rule_hypergradients(bool perWeight)
    {
        var problem = new TinyMlpProblem();
        Learner Make(IWeightUpdate rule)
        {
            torch.manual_seed(3);
            return new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), rule, Loss.MeanSquaredError);
        }
        var generated = Make(new SgdMomentum(0.05, 0.6, 0.02, perWeight));
        var handWritten = Make(new HandWrittenSgdMomentum(0.05, 0.6, 0.02, perWeight));
        for (var s = 0; s < 3; s++)
        {
            generated.UntrackedStep(problem.Train);
            handWritten.UntrackedStep(problem.Train);
        }
        var tuned = Enumerable.Range(0, 3).ToArray();
        var a = generated.TrackedStep(problem.Train, problem.Validation, 5, tuned);
        var b = handWritten.TrackedStep(problem.Train, problem.Validation, 5, tuned);
        Assert.Equal(a.Hypergradient.Count, b.Hypergradient.Count);
        for (var j = 0; j < a.Hypergradient.Count; j++)
            Assert.True((a.Hypergradient[j] - b.Hypergradient[j]).abs().max().item<double>() <= 1e-12 * Math.Max(1, b.Hypergradient[j].abs().max().item<double>()));
        for (var k = 0; k < generated.Weights.Count; k++)
            Assert.True((generated.Weights[k] - handWritten.Weights[k]).abs().max().item<double>() <= 1e-12);
    }
}
