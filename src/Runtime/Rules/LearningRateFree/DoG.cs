using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// DoG, "Distance over Gradients" (Ivgi, Hinder and Carmon, ICML 2023), after the authors'
/// reference (formll/dog, <c>DoG</c>): SGD whose one step size for all weights is
/// η = c · r̄ / √G, with r̄ the largest distance of the weights from where they started
/// (r_ε = ε_rel (1 + ‖x₀‖) at the first step) and G = Σ ‖g‖² + ε over all steps so far;
/// g = ∇L + ξ w. Norms are over all weight tensors together.
/// </summary>
public sealed class DoG : IAcrossWeightsUpdate
{
    public const string LearningRate = "learningRate", WeightDecay = "weightDecay";
    const int LearningRateIndex = 0, WeightDecayIndex = 1;
    const int InitialWeight = 0, Distance = 1, GradientSquares = 2;

    readonly HyperparameterSpec[] _specs;
    readonly double _relativeInitialDistance;
    readonly double _epsilon;

    /// <param name="learningRate">The factor c on the step size (1 in the paper; tuned in log10 space).</param>
    /// <param name="weightDecay">ξ, added to the gradient (0 by default).</param>
    /// <param name="relativeInitialDistance">ε_rel of the first distance, 1e-6 (1e-4 with batch normalisation).</param>
    /// <param name="epsilon">Added to the sum of squared gradients.</param>
    public DoG(double learningRate = 1.0, double weightDecay = 0, double relativeInitialDistance = 1e-6, double epsilon = 1e-8)
    {
        _specs =
        [
            Specs.StepSize(LearningRate, learningRate, "Factor c on DoG's step size r̄/√G."),
            Specs.WeightDecay(weightDecay, "L2 weight decay ξ, added to the gradient."),
        ];
        RuleChecks.Validate(nameof(DoG), _specs);
        RuleChecks.Positive(nameof(DoG), (nameof(relativeInitialDistance), relativeInitialDistance), (nameof(epsilon), epsilon));
        _relativeInitialDistance = relativeInitialDistance;
        _epsilon = epsilon;
    }

    public IReadOnlyList<HyperparameterSpec> Hyperparameters => _specs;

    public IReadOnlyList<string> StateNames { get; } = ["initialWeight", "maxDistance", "gradientSquares"];

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var at = new AcrossWeights(this, members, weights, grads, values, state);
        var g = Enumerable.Range(0, at.Count).Select(k => grads[k] + at.Value(WeightDecayIndex, k) * weights[k]).ToArray();
        var squares = at.Sum(k => g[k].square());
        Tensor distance, sum;
        if (at.First(Distance))
        {
            for (var k = 0; k < at.Count; k++) state[k][InitialWeight] = weights[k].detach().clone();
            distance = _relativeInitialDistance * (1 + ZeroSafe.Sqrt(at.Sum(k => weights[k].square())));
            sum = squares + _epsilon;
        }
        else
        {
            distance = at.Global(Distance)!.maximum(ZeroSafe.Sqrt(at.Sum(k => (weights[k] - state[k][InitialWeight]!).square())));
            sum = at.Global(GradientSquares)! + squares;
        }
        at.SetGlobal(Distance, distance);
        at.SetGlobal(GradientSquares, sum);
        var eta = at.Scalar(LearningRateIndex) * distance / sum.sqrt();
        return Enumerable.Range(0, at.Count).Select(k => at.Spread(eta, k) * g[k]).ToArray();
    }

}
