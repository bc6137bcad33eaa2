using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// D-Adaptation SGD (Defazio and Mishchenko, ICML 2023), after the authors' reference
/// (facebookresearch/dadaptation, <c>DAdaptSGD</c>): a dual-averaging step
/// s ← s + (d λ / ‖g₀‖) g, weights z = x₀ − s (averaged with momentum), and d, the estimate of
/// the distance to the solution, raised to 2 Σ (d λ/‖g₀‖) ⟨g, s⟩ / ‖s‖ when that is larger.
/// g = ∇L + ξ w; ‖g₀‖ is the first gradient's norm (without weight decay, as in the reference).
/// </summary>
public sealed class DAdaptSgd : IAcrossWeightsUpdate
{
    public const string LearningRate = "learningRate", WeightDecay = "weightDecay";
    const int LearningRateIndex = 0, WeightDecayIndex = 1;
    const int InitialWeight = 0, Sum = 1, D = 2, Numerator = 3, FirstGradientNorm = 4;

    readonly HyperparameterSpec[] _specs;
    readonly double _momentum, _d0, _growthRate;

    /// <param name="learningRate">The factor λ on d (1 by default; tuned in log10 space).</param>
    /// <param name="weightDecay">ξ, added to the gradient.</param>
    /// <param name="momentum">Averaging of the iterates, in [0, 1).</param>
    /// <param name="d0">The first estimate of d.</param>
    /// <param name="growthRate">The most d may grow per step (unbounded by default).</param>
    public DAdaptSgd(double learningRate = 1.0, double weightDecay = 0, double momentum = 0, double d0 = 1e-6, double growthRate = double.PositiveInfinity)
    {
        _specs =
        [
            Specs.StepSize(LearningRate, learningRate, "Factor λ on the adapted step size d."),
            Specs.WeightDecay(weightDecay, "L2 weight decay ξ, added to the gradient."),
        ];
        RuleChecks.Validate(nameof(DAdaptSgd), _specs);
        if (!(momentum >= 0 && momentum < 1)) throw new TrainTuneException($"DAdaptSgd: momentum must be in [0, 1), not {momentum}.");
        RuleChecks.Positive(nameof(DAdaptSgd), (nameof(d0), d0), (nameof(growthRate), growthRate));
        (_momentum, _d0, _growthRate) = (momentum, d0, growthRate);
    }

    public IReadOnlyList<HyperparameterSpec> Hyperparameters => _specs;

    /// <summary>Changes the bounds of hyperparameter <paramref name="name"/> for this instance (null: unbounded on that side); checked when a run starts.</summary>
    public void SetBounds(string name, double? min, double? max) => RuleChecks.Change(nameof(DAdaptSgd), _specs, name, s => s with { Min = min, Max = max });

    /// <summary>Changes the transform hyperparameter <paramref name="name"/> is tuned in for this instance (e.g. Transform.Identity to tune it from 0); checked when a run starts.</summary>
    public void SetTransform(string name, Transform transform) => RuleChecks.Change(nameof(DAdaptSgd), _specs, name, s => s with { Transform = transform });

    public IReadOnlyList<string> StateNames { get; } = ["initialWeight", "sum", "d", "numerator", "firstGradientNorm"];

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var at = new AcrossWeights(this, members, weights, grads, values, state);
        if (at.First(D))
        {
            for (var k = 0; k < at.Count; k++)
            {
                state[k][InitialWeight] = weights[k].detach().clone();
                state[k][Sum] = zeros_like(weights[k]);
            }
            at.SetGlobal(D, at.Constant(_d0));
            at.SetGlobal(Numerator, at.Constant(0));
            at.SetGlobal(FirstGradientNorm, at.Constant(0));
        }
        // ‖g₀‖ is the first gradient's norm that is not 0: the reference divides by it and raises
        // on a first gradient of zeros; a member here skips such steps (no update, nothing
        // changed) until a gradient is not 0, as the reference does when ‖s‖ = 0.
        var stored = at.Global(FirstGradientNorm)!;
        var firstNorm = torch.where(stored.ne(0), stored, ZeroSafe.Sqrt(at.Sum(k => grads[k].square())));
        var d = at.Global(D)!;
        var (perNorm, started) = ZeroSafe.Divide(at.Scalar(LearningRateIndex), firstNorm);
        var dlr = d * perNorm;
        var g = Enumerable.Range(0, at.Count).Select(k => grads[k] + at.Value(WeightDecayIndex, k) * weights[k]).ToArray();
        var numerator = at.Global(Numerator)! + dlr * at.Sum(k => g[k] * state[k][Sum]!);
        var s = Enumerable.Range(0, at.Count).Select(k => state[k][Sum]! + at.Spread(dlr, k) * g[k]).ToArray();
        var (quotient, moved) = ZeroSafe.Divide(2 * numerator, ZeroSafe.Sqrt(at.Sum(k => s[k].square())));
        var progressed = started.logical_and(moved);
        at.SetGlobal(D, torch.where(progressed, d.maximum(quotient.minimum(d * _growthRate)), d));
        at.SetGlobal(Numerator, torch.where(progressed, numerator, at.Global(Numerator)!));
        at.SetGlobal(FirstGradientNorm, firstNorm);
        var ck = 1 - _momentum;
        var updates = new Tensor[at.Count];
        for (var k = 0; k < at.Count; k++)
        {
            var skipped = at.Spread(progressed, k).logical_not();
            state[k][Sum] = torch.where(skipped, state[k][Sum]!, s[k]);
            // w' = (1 − c) w + c z with z = x₀ − s, so u = c (w − z).
            updates[k] = (ck * (weights[k] - (state[k][InitialWeight]! - s[k]))).masked_fill(skipped, 0);
        }
        return updates;
    }

}

/// <summary>
/// D-Adaptation Adam (Defazio and Mishchenko, ICML 2023), after the authors' reference
/// (facebookresearch/dadaptation, <c>DAdaptAdam</c>, bias correction off as its default): Adam
/// whose first moment carries the step size d λ, with d raised to
/// Σ⟨g, s/(√v + ε)⟩-weighted sums over ‖s‖₁ when that is larger; s ← √β₂ s + d λ (1 − √β₂) g.
/// g = ∇L + ξ w (or decoupled: u gains ξ d λ w).
/// </summary>
public sealed class DAdaptAdam : IAcrossWeightsUpdate
{
    public const string LearningRate = "learningRate", Beta1 = "beta1", Beta2 = "beta2", WeightDecay = "weightDecay", LayerScale = "layerScale";
    const int LearningRateIndex = 0, Beta1Index = 1, Beta2Index = 2, WeightDecayIndex = 3, LayerScaleIndex = 4;
    const int FirstMoment = 0, SecondMoment = 1, Sum = 2, D = 3, Numerator = 4, Steps = 5;

    readonly HyperparameterSpec[] _specs;
    readonly double _epsilon, _d0, _growthRate;
    readonly bool _decoupled, _biasCorrection;

    /// <param name="learningRate">The factor λ on d (1 by default; tuned in log10 space).</param>
    /// <param name="beta1">Decay of the first moment (0 allowed: no momentum, as the reference allows).</param>
    /// <param name="beta2">Decay of the second moment (√β₂ decays s and the numerator).</param>
    /// <param name="weightDecay">ξ: added to the gradient, or decoupled.</param>
    /// <param name="epsilon">Added to √v.</param>
    /// <param name="d0">The first estimate of d.</param>
    /// <param name="growthRate">The most d may grow per step (unbounded by default).</param>
    /// <param name="decoupled">AdamW-style weight decay.</param>
    /// <param name="biasCorrection">The reference's <c>use_bias_correction</c>: the step size d λ times √(1 − β₂^k) / (1 − β₁^k) at the k-th step taken.</param>
    public DAdaptAdam(double learningRate = 1.0, double beta1 = 0.9, double beta2 = 0.999, double weightDecay = 0, double epsilon = 1e-8,
        double d0 = 1e-6, double growthRate = double.PositiveInfinity, bool decoupled = false, bool biasCorrection = false)
    {
        _specs =
        [
            Specs.StepSize(LearningRate, learningRate, "Factor λ on the adapted step size d."),
            Specs.Beta1(beta1),
            Specs.Beta2(beta2),
            Specs.WeightDecay(weightDecay, "Weight decay ξ."),
            // The reference's layer_scale r, a setting of each param group: held unless named, set per ParameterGroup.
            new(LayerScale, 1, Transform.Identity, Min: 0, Summary: "Factor r of a parameter group on its step and on its share of d's estimate.") { TunedByDefault = false },
        ];
        RuleChecks.Validate(nameof(DAdaptAdam), _specs);
        RuleChecks.Positive(nameof(DAdaptAdam), (nameof(epsilon), epsilon), (nameof(d0), d0), (nameof(growthRate), growthRate));
        (_epsilon, _d0, _growthRate, _decoupled, _biasCorrection) = (epsilon, d0, growthRate, decoupled, biasCorrection);
    }

    public IReadOnlyList<HyperparameterSpec> Hyperparameters => _specs;

    /// <summary>Changes the bounds of hyperparameter <paramref name="name"/> for this instance (null: unbounded on that side); checked when a run starts.</summary>
    public void SetBounds(string name, double? min, double? max) => RuleChecks.Change(nameof(DAdaptAdam), _specs, name, s => s with { Min = min, Max = max });

    /// <summary>Changes the transform hyperparameter <paramref name="name"/> is tuned in for this instance (e.g. Transform.Identity to tune it from 0); checked when a run starts.</summary>
    public void SetTransform(string name, Transform transform) => RuleChecks.Change(nameof(DAdaptAdam), _specs, name, s => s with { Transform = transform });

    public IReadOnlyList<string> StateNames { get; } = ["firstMoment", "secondMoment", "sum", "d", "numerator", "steps"];

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var at = new AcrossWeights(this, members, weights, grads, values, state);
        if (at.First(D))
        {
            for (var k = 0; k < at.Count; k++)
                for (var j = FirstMoment; j <= Sum; j++) state[k][j] = zeros_like(weights[k]);
            at.SetGlobal(D, at.Constant(_d0));
            at.SetGlobal(Numerator, at.Constant(0));
            at.SetGlobal(Steps, at.Constant(0));
        }
        var d = at.Global(D)!;
        // The reference's k counts the steps taken (a skipped step does not count).
        var step = at.Global(Steps)! + 1;
        var correction = _biasCorrection
            ? (1 - at.Scalar(Beta2Index).pow(step)).sqrt() / (1 - at.Scalar(Beta1Index).pow(step))
            : at.Constant(1);
        var dlr = d * at.Scalar(LearningRateIndex) * correction;
        var sqrtBeta2 = at.Scalar(Beta2Index).sqrt();
        var g = Enumerable.Range(0, at.Count)
            .Select(k => _decoupled ? grads[k] : grads[k] + at.Value(WeightDecayIndex, k) * weights[k]).ToArray();
        // The numerator uses the second moment from before this step, as the reference does.
        // layer_scale r multiplies each weight's share of the numerator and of ‖s‖₁, and its step.
        var accumulated = dlr * at.Sum(k => at.Value(LayerScaleIndex, k) * g[k] * state[k][Sum]! / (ZeroSafe.Sqrt(state[k][SecondMoment]!) + _epsilon));
        var m = new Tensor[at.Count];
        var v = new Tensor[at.Count];
        var s = new Tensor[at.Count];
        for (var k = 0; k < at.Count; k++)
        {
            var beta1 = at.Value(Beta1Index, k);
            var beta2 = at.Value(Beta2Index, k);
            var dlrK = at.Spread(dlr, k);
            var sqrtBeta2K = at.Spread(sqrtBeta2, k);
            m[k] = beta1 * state[k][FirstMoment]! + at.Value(LayerScaleIndex, k) * dlrK * (1 - beta1) * g[k];
            v[k] = beta2 * state[k][SecondMoment]! + (1 - beta2) * g[k].square();
            s[k] = sqrtBeta2K * state[k][Sum]! + dlrK * (1 - sqrtBeta2K) * g[k];
        }
        var numerator = sqrtBeta2 * at.Global(Numerator)! + (1 - sqrtBeta2) * accumulated;
        // ‖s‖₁ = 0 only while every gradient so far was 0: the reference then skips the step (d and
        // the numerator unchanged, no update), and so does a member here.
        var (dHat, progressed) = ZeroSafe.Divide(numerator, (1 - sqrtBeta2) * at.Sum(k => at.Value(LayerScaleIndex, k) * s[k].abs()));
        at.SetGlobal(D, torch.where(progressed, d.maximum(dHat.minimum(d * _growthRate)), d));
        at.SetGlobal(Numerator, torch.where(progressed, numerator, at.Global(Numerator)!));
        at.SetGlobal(Steps, torch.where(progressed, step, at.Global(Steps)!));
        var updates = new Tensor[at.Count];
        for (var k = 0; k < at.Count; k++)
        {
            (state[k][FirstMoment], state[k][SecondMoment], state[k][Sum]) = (m[k], v[k], s[k]);
            updates[k] = m[k] / (ZeroSafe.Sqrt(v[k]) + _epsilon);
            if (_decoupled) updates[k] = updates[k] + at.Value(WeightDecayIndex, k) * at.Spread(dlr, k) * weights[k];
            updates[k] = updates[k].masked_fill(at.Spread(progressed, k).logical_not(), 0);
        }
        return updates;
    }

}
