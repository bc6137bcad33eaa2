using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// DoG, "Distance over Gradients" (Ivgi, Hinder and Carmon, ICML 2023), after the authors'
/// reference (formll/dog, <c>DoG</c>): SGD whose one step size for all weights is
/// η = c · r̄ / √G, with r̄ the largest distance of the weights from where they started
/// (r_ε = ε_rel (1 + ‖x₀‖) at the first step) and G = Σ ‖g‖² + ε over all steps so far;
/// g = ∇L + ξ w. Norms are over all weight tensors together, or per weight tensor for the
/// layer-wise L-DoG (<c>LDoG</c>). The reference's <c>init_eta</c> sets the first step size
/// instead of r_ε, and its polynomial-decay averager (Shamir and Zhang 2013), which its authors
/// call crucial, makes the average x̄ the point losses are evaluated at.
/// </summary>
public sealed class DoG : IAcrossWeightsUpdate, IEvaluationPoint
{
    public const string LearningRate = "learningRate", WeightDecay = "weightDecay";
    const int LearningRateIndex = 0, WeightDecayIndex = 1;
    const int InitialWeight = 0, Distance = 1, GradientSquares = 2, Average = 3, AverageSteps = 4;

    readonly HyperparameterSpec[] _specs;
    readonly double _relativeInitialDistance;
    readonly double _epsilon;
    readonly double? _initialStepSize, _averaging;
    readonly bool _layerWise;

    /// <param name="learningRate">The factor c on the step size (1 in the paper; tuned in log10 space).</param>
    /// <param name="weightDecay">ξ, added to the gradient (0 by default).</param>
    /// <param name="relativeInitialDistance">ε_rel of the first distance, 1e-6 (1e-4 with batch normalisation).</param>
    /// <param name="epsilon">Added to the sum of squared gradients.</param>
    /// <param name="initialStepSize">The reference's <c>init_eta</c>: the first step size itself (then r̄ starts at 0 and ε_rel is not used); null for r_ε.</param>
    /// <param name="layerWise">L-DoG: r̄, G and η per weight tensor (the reference's <c>LDoG</c>).</param>
    /// <param name="averaging">γ of the reference's <c>PolynomialDecayAverager</c> (its default is 8): losses, results and checkpoints are at x̄_t = (1 − a) x̄_{t−1} + a x_t, a = (1 + γ)/(t + γ); null for none.</param>
    public DoG(double learningRate = 1.0, double weightDecay = 0, double relativeInitialDistance = 1e-6, double epsilon = 1e-8,
        double? initialStepSize = null, bool layerWise = false, double? averaging = null)
    {
        _specs =
        [
            Specs.StepSize(LearningRate, learningRate, "Factor c on DoG's step size r̄/√G."),
            Specs.WeightDecay(weightDecay, "L2 weight decay ξ, added to the gradient."),
        ];
        RuleChecks.Validate(nameof(DoG), _specs);
        RuleChecks.Positive(nameof(DoG), (nameof(relativeInitialDistance), relativeInitialDistance), (nameof(epsilon), epsilon));
        if (initialStepSize is { } eta) RuleChecks.Positive(nameof(DoG), (nameof(initialStepSize), eta));
        if (averaging is { } gamma && !(gamma >= 0 && double.IsFinite(gamma)))
            throw new TrainTuneException($"{nameof(DoG)}: averaging (γ of the polynomial-decay average) must be a finite number ≥ 0, not {gamma}; null for no averaging.");
        (_relativeInitialDistance, _epsilon, _initialStepSize, _layerWise, _averaging) = (relativeInitialDistance, epsilon, initialStepSize, layerWise, averaging);
    }

    public IReadOnlyList<HyperparameterSpec> Hyperparameters => _specs;

    /// <summary>Changes the bounds of hyperparameter <paramref name="name"/> for this instance (null: unbounded on that side); checked when a run starts.</summary>
    public void SetBounds(string name, double? min, double? max) => RuleChecks.Change(nameof(DoG), _specs, name, s => s with { Min = min, Max = max });

    /// <summary>Changes the transform hyperparameter <paramref name="name"/> is tuned in for this instance (e.g. Transform.Identity to tune it from 0); checked when a run starts.</summary>
    public void SetTransform(string name, Transform transform) => RuleChecks.Change(nameof(DoG), _specs, name, s => s with { Transform = transform });

    // Distance and gradientSquares are weight 0's (global) or each weight's own (layer-wise); the
    // average and its step count stay null without averaging.
    public IReadOnlyList<string> StateNames { get; } = ["initialWeight", "maxDistance", "gradientSquares", "average", "averageSteps"];

    bool IEvaluationPoint.Differs => _averaging is not null;

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var at = new AcrossWeights(this, members, weights, grads, values, state);
        var first = at.First(Distance);
        if (first)
            for (var k = 0; k < at.Count; k++) state[k][InitialWeight] = weights[k].detach().clone();
        var g = Enumerable.Range(0, at.Count).Select(k => grads[k] + at.Value(WeightDecayIndex, k) * weights[k]).ToArray();
        // The sums DoG takes: over every weight tensor, or over each one alone (L-DoG).
        var parts = _layerWise ? Enumerable.Range(0, at.Count).Select(k => new[] { k }).ToArray() : [Enumerable.Range(0, at.Count).ToArray()];
        var eta = new Tensor[at.Count];
        foreach (var part in parts)
        {
            var owner = part[0];
            Tensor Sum(Func<int, Tensor> perWeight) => part.Select(k => members.Sum(perWeight(k))).Aggregate((a, b) => a + b);
            var squares = Sum(k => g[k].square());
            Tensor distance, sum;
            if (first)
            {
                // init_eta: r̄ starts at 0 (the reference sets ε_rel to 0) and the first step is init_eta itself.
                distance = _initialStepSize is null ? _relativeInitialDistance * (1 + ZeroSafe.Sqrt(Sum(k => weights[k].square()))) : at.Constant(0);
                sum = squares + _epsilon;
            }
            else
            {
                distance = state[owner][Distance]!.maximum(ZeroSafe.Sqrt(Sum(k => (weights[k] - state[k][InitialWeight]!).square())));
                sum = state[owner][GradientSquares]! + squares;
            }
            state[owner][Distance] = distance;
            state[owner][GradientSquares] = sum;
            var step = first && _initialStepSize is { } initial ? at.Constant(initial) : at.Scalar(LearningRateIndex) * distance / sum.sqrt();
            foreach (var k in part) eta[k] = step;
        }
        if (_averaging is { } gamma) Fold(at, weights, state, gamma, first);
        return Enumerable.Range(0, at.Count).Select(k => at.Spread(eta[k], k) * g[k]).ToArray();
    }

    /// <summary>
    /// Folds the weights before this step into the average: after step t − 1 the average is
    /// x̄_{t−1} = (1 − a) x̄_{t−2} + a x_{t−1}, a = (1 + γ)/(t − 1 + γ); the evaluation point adds x_t.
    /// </summary>
    static void Fold(AcrossWeights at, IReadOnlyList<Tensor> weights, Tensor?[][] state, double gamma, bool first)
    {
        if (first)
        {
            for (var k = 0; k < at.Count; k++) state[k][Average] = weights[k].detach().clone();
            at.SetGlobal(AverageSteps, at.Constant(0));
            return;
        }
        var steps = at.Global(AverageSteps)! + 1;
        var a = (1 + gamma) / (steps + gamma);
        for (var k = 0; k < at.Count; k++)
        {
            var ak = at.Spread(a, k);
            state[k][Average] = ((1 - ak) * state[k][Average]! + ak * weights[k]).detach();
        }
        at.SetGlobal(AverageSteps, steps);
    }

    Tensor[] IEvaluationPoint.EvaluationWeights(IReadOnlyList<Tensor> weights, Tensor[][] values, Tensor?[][] state)
    {
        if (_averaging is not { } gamma || state[0][AverageSteps] is not { } done) return weights.ToArray();
        // After step t = done + 1: a = (1 + γ)/(t + γ).
        var a = (1 + gamma) / (done + 1 + gamma);
        return weights.Select((w, k) =>
        {
            var ak = a.reshape(a.dim() == 0 ? [] : [a.shape[0], .. Enumerable.Repeat(1L, (int)w.dim() - 1)]);
            return (1 - ak) * state[k][Average]! + ak * w;
        }).ToArray();
    }
}
