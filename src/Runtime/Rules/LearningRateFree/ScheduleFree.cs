using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Schedule-Free SGD (Defazio et al., NeurIPS 2024), after the authors' reference
/// (facebookresearch/schedule_free, <c>SGDScheduleFree</c>): the weights hold y, where the
/// gradient is taken; z ← z − γ g; the average x is evaluated, x = y + (1 − 1/β)(z − y).
/// One step: y ← (1 − c) y + c z + γ (β (1 − c) − 1) g with c = w_k / Σ w and
/// w_k = (k + 1)^r · max γ^p (p = 2); g = ∇L(y) + ξ y.
/// </summary>
public sealed class ScheduleFreeSgd : IAcrossWeightsUpdate, IEvaluationPoint
{
    public const string LearningRate = "learningRate", Momentum = "momentum", WeightDecay = "weightDecay";
    const int LearningRateIndex = 0, MomentumIndex = 1, WeightDecayIndex = 2;
    const int Z = 0;

    readonly HyperparameterSpec[] _specs;
    readonly ScheduleFreeAverage _average;

    /// <param name="learningRate">γ (1 by default, as the reference; tuned in log10 space).</param>
    /// <param name="momentum">β, the interpolation between y and x, in (0, 1).</param>
    /// <param name="weightDecay">ξ, added to the gradient at y.</param>
    /// <param name="warmupSteps">Linear warm-up of γ over this many steps (none by default).</param>
    /// <param name="r">Polynomial weighting of the average.</param>
    /// <param name="weightLearningRatePower">p: weights of the average are max γ^p.</param>
    public ScheduleFreeSgd(double learningRate = 1.0, double momentum = 0.9, double weightDecay = 0, int warmupSteps = 0, double r = 0, double weightLearningRatePower = 2)
    {
        _specs =
        [
            Specs.StepSize(LearningRate, learningRate, "Step size γ."),
            Specs.Rate(Momentum, momentum, "Interpolation β between the gradient point y and the average x."),
            Specs.WeightDecay(weightDecay, "L2 weight decay ξ, at y."),
        ];
        RuleChecks.Validate(nameof(ScheduleFreeSgd), _specs);
        _average = new ScheduleFreeAverage(nameof(ScheduleFreeSgd), warmupSteps, r, weightLearningRatePower, firstState: 1);
    }

    public IReadOnlyList<HyperparameterSpec> Hyperparameters => _specs;

    /// <summary>Changes the bounds of hyperparameter <paramref name="name"/> for this instance (null: unbounded on that side); checked when a run starts.</summary>
    public void SetBounds(string name, double? min, double? max) => RuleChecks.Change(nameof(ScheduleFreeSgd), _specs, name, s => s with { Min = min, Max = max });

    /// <summary>Changes the transform hyperparameter <paramref name="name"/> is tuned in for this instance (e.g. Transform.Identity to tune it from 0); checked when a run starts.</summary>
    public void SetTransform(string name, Transform transform) => RuleChecks.Change(nameof(ScheduleFreeSgd), _specs, name, s => s with { Transform = transform });

    public IReadOnlyList<string> StateNames { get; } = ["z", .. ScheduleFreeAverage.StateNames];

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var at = new AcrossWeights(this, members, weights, grads, values, state);
        if (_average.First(at))
            for (var k = 0; k < at.Count; k++) state[k][Z] = weights[k].detach().clone();
        var (gamma, c) = _average.Step(at, at.Scalar(LearningRateIndex));
        var updates = new Tensor[at.Count];
        for (var k = 0; k < at.Count; k++)
        {
            var g = grads[k] + at.Value(WeightDecayIndex, k) * weights[k];
            (updates[k], state[k][Z]) = ScheduleFreeAverage.Update(weights[k], state[k][Z]!, g, at.Spread(gamma, k), at.Spread(c, k), at.Value(MomentumIndex, k));
        }
        return updates;
    }

    Tensor[] IEvaluationPoint.EvaluationWeights(IReadOnlyList<Tensor> weights, Tensor[][] values, Tensor?[][] state) =>
        ScheduleFreeAverage.Average(weights, state, Z, k => values[MomentumIndex][k]);

}

/// <summary>
/// Schedule-Free AdamW (Defazio et al., NeurIPS 2024), after the authors' reference
/// (facebookresearch/schedule_free, <c>AdamWScheduleFree</c>): as <see cref="ScheduleFreeSgd"/>
/// with the gradient normalised by Adam's bias-corrected second moment,
/// g = ∇L(y) / (√(v / (1 − β₂^(k+1))) + ε) + ξ y, and β = β₁.
/// </summary>
public sealed class ScheduleFreeAdamW : IAcrossWeightsUpdate, IEvaluationPoint
{
    public const string LearningRate = "learningRate", Beta1 = "beta1", Beta2 = "beta2", WeightDecay = "weightDecay";
    const int LearningRateIndex = 0, Beta1Index = 1, Beta2Index = 2, WeightDecayIndex = 3;
    const int Z = 0, SecondMoment = 1, FirstMoment = 2;

    readonly HyperparameterSpec[] _specs;
    readonly ScheduleFreeAverage _average;
    readonly double _epsilon, _innerMomentum;

    /// <param name="learningRate">γ (0.0025 by default, as the reference; tuned in log10 space).</param>
    /// <param name="beta1">β, the interpolation between y and x, in (0, 1).</param>
    /// <param name="beta2">Decay of the second moment.</param>
    /// <param name="weightDecay">ξ, added to the normalised gradient at y.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    /// <param name="warmupSteps">Linear warm-up of γ over this many steps (none by default).</param>
    /// <param name="r">Polynomial weighting of the average.</param>
    /// <param name="weightLearningRatePower">p: weights of the average are max γ^p.</param>
    /// <param name="innerMomentum">The reference's <c>inner_momentum</c>: an average of the gradient with this decay, bias-corrected, normalised in place of the gradient (0, the default: none; its authors suggest 0.9).</param>
    public ScheduleFreeAdamW(double learningRate = 0.0025, double beta1 = 0.9, double beta2 = 0.999, double weightDecay = 0, double epsilon = 1e-8,
        int warmupSteps = 0, double r = 0, double weightLearningRatePower = 2, double innerMomentum = 0)
    {
        _specs =
        [
            Specs.StepSize(LearningRate, learningRate, "Step size γ."),
            Specs.Rate(Beta1, beta1, "Interpolation β between the gradient point y and the average x."),
            Specs.Beta2(beta2),
            Specs.WeightDecay(weightDecay, "Weight decay ξ, at y."),
        ];
        RuleChecks.Validate(nameof(ScheduleFreeAdamW), _specs);
        RuleChecks.Positive(nameof(ScheduleFreeAdamW), (nameof(epsilon), epsilon));
        if (!(innerMomentum >= 0 && innerMomentum < 1))
            throw new TrainTuneException($"{nameof(ScheduleFreeAdamW)}: innerMomentum must lie in [0, 1), not {innerMomentum}.");
        (_epsilon, _innerMomentum) = (epsilon, innerMomentum);
        _average = new ScheduleFreeAverage(nameof(ScheduleFreeAdamW), warmupSteps, r, weightLearningRatePower, firstState: 3);
    }

    public IReadOnlyList<HyperparameterSpec> Hyperparameters => _specs;

    /// <summary>Changes the bounds of hyperparameter <paramref name="name"/> for this instance (null: unbounded on that side); checked when a run starts.</summary>
    public void SetBounds(string name, double? min, double? max) => RuleChecks.Change(nameof(ScheduleFreeAdamW), _specs, name, s => s with { Min = min, Max = max });

    /// <summary>Changes the transform hyperparameter <paramref name="name"/> is tuned in for this instance (e.g. Transform.Identity to tune it from 0); checked when a run starts.</summary>
    public void SetTransform(string name, Transform transform) => RuleChecks.Change(nameof(ScheduleFreeAdamW), _specs, name, s => s with { Transform = transform });

    // firstMoment stays null without inner momentum.
    public IReadOnlyList<string> StateNames { get; } = ["z", "secondMoment", "firstMoment", .. ScheduleFreeAverage.StateNames];

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var at = new AcrossWeights(this, members, weights, grads, values, state);
        if (_average.First(at))
            for (var k = 0; k < at.Count; k++)
            {
                state[k][Z] = weights[k].detach().clone();
                state[k][SecondMoment] = zeros_like(weights[k]);
            }
        var steps = _average.Steps(at);
        var (gamma, c) = _average.Step(at, at.Scalar(LearningRateIndex));
        var updates = new Tensor[at.Count];
        for (var k = 0; k < at.Count; k++)
        {
            var beta2 = at.Value(Beta2Index, k);
            var v = beta2 * state[k][SecondMoment]! + (1 - beta2) * grads[k].square();
            var correction = 1 - beta2.pow(at.Spread(steps + 1, k));
            var direction = grads[k];
            if (_innerMomentum != 0)
            {
                var m = state[k][FirstMoment] is { } previous ? _innerMomentum * previous + (1 - _innerMomentum) * grads[k] : (1 - _innerMomentum) * grads[k];
                state[k][FirstMoment] = m;
                direction = m / (1 - torch.pow(_innerMomentum, at.Spread(steps + 1, k)));
            }
            var g = direction / (ZeroSafe.Sqrt(v / correction) + _epsilon) + at.Value(WeightDecayIndex, k) * weights[k];
            state[k][SecondMoment] = v;
            (updates[k], state[k][Z]) = ScheduleFreeAverage.Update(weights[k], state[k][Z]!, g, at.Spread(gamma, k), at.Spread(c, k), at.Value(Beta1Index, k));
        }
        return updates;
    }

    Tensor[] IEvaluationPoint.EvaluationWeights(IReadOnlyList<Tensor> weights, Tensor[][] values, Tensor?[][] state) =>
        ScheduleFreeAverage.Average(weights, state, Z, k => values[Beta1Index][k]);

}

/// <summary>
/// The part both Schedule-Free rules share: the weighting of the average (step count, largest
/// step size so far, sum of weights; global state from <c>firstState</c> on) and the y, z step.
/// </summary>
internal sealed class ScheduleFreeAverage
{
    public static readonly string[] StateNames = ["steps", "largestLearningRate", "weightSum"];

    readonly int _warmupSteps, _steps, _largest, _weightSum;
    readonly double _r, _power;

    public ScheduleFreeAverage(string rule, int warmupSteps, double r, double power, int firstState)
    {
        if (warmupSteps < 0) throw new TrainTuneException($"{rule}: warmupSteps must be 0 or more, not {warmupSteps}.");
        if (!double.IsFinite(r) || r < 0) throw new TrainTuneException($"{rule}: r must be 0 or more, not {r}.");
        if (!double.IsFinite(power) || power < 0) throw new TrainTuneException($"{rule}: weightLearningRatePower must be 0 or more, not {power}.");
        (_warmupSteps, _r, _power) = (warmupSteps, r, power);
        (_steps, _largest, _weightSum) = (firstState, firstState + 1, firstState + 2);
    }

    public bool First(AcrossWeights at) => at.First(_steps);

    /// <summary>Steps taken before this one, k (per member).</summary>
    public Tensor Steps(AcrossWeights at) => at.Global(_steps) ?? at.Constant(0);

    /// <summary>This step's γ (warmed up) and c = w_k / Σ w; advances the global state.</summary>
    public (Tensor Gamma, Tensor C) Step(AcrossWeights at, Tensor learningRate)
    {
        var k = Steps(at);
        var gamma = _warmupSteps > 0 ? learningRate * ((k + 1) / _warmupSteps).clamp_max(1) : learningRate;
        var largest = at.Global(_largest) is { } before ? before.maximum(gamma) : gamma;
        var weight = (k + 1).pow(_r) * largest.pow(_power);
        var sum = (at.Global(_weightSum) ?? at.Constant(0)) + weight;
        at.SetGlobal(_steps, k + 1);
        at.SetGlobal(_largest, largest);
        at.SetGlobal(_weightSum, sum);
        return (gamma, weight / sum);
    }

    /// <summary>u = y − y' with y' = (1 − c) y + c z + γ (β (1 − c) − 1) g, and z' = z − γ g.</summary>
    public static (Tensor Update, Tensor Z) Update(Tensor y, Tensor z, Tensor g, Tensor gamma, Tensor c, Tensor beta) =>
        (c * (y - z) + gamma * (1 - beta * (1 - c)) * g, z - gamma * g);

    /// <summary>x = y + (1 − 1/β)(z − y); y itself before the first step.</summary>
    public static Tensor[] Average(IReadOnlyList<Tensor> weights, Tensor?[][] state, int z, Func<int, Tensor> beta) =>
        weights.Select((y, k) => state[k][z] is { } zk ? y + (1 - 1 / beta(k)) * (zk - y) : y).ToArray();
}
