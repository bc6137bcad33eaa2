using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Prodigy (Mishchenko and Defazio, ICML 2024), after the authors' reference
/// (konstmish/prodigy, <c>Prodigy</c>: decoupled weight decay, no bias correction, β₃ = √β₂ by
/// default): Adam whose moments carry the distance estimate d, raised to
/// d_coef · Σ (d/d₀) d λ ⟨g, x₀ − w⟩ (decayed by β₃) / ‖s‖₁ when that is larger. The step uses
/// the d from before this step, its denominator √v + d ε the new one. The reference's options
/// <c>use_bias_correction</c>, <c>safeguard_warmup</c> and <c>beta3</c> are constructor options,
/// and β₁ may be 0 (no first moment: held at 0, it is exactly the reference's branch).
/// </summary>
public sealed class Prodigy : IAcrossWeightsUpdate, ISlicedState
{
    public const string LearningRate = "learningRate", Beta1 = "beta1", Beta2 = "beta2", DCoefficient = "dCoefficient", WeightDecay = "weightDecay";
    const int LearningRateIndex = 0, Beta1Index = 1, Beta2Index = 2, DCoefficientIndex = 3, WeightDecayIndex = 4;
    const int InitialWeight = 0, Sum = 1, FirstMoment = 2, SecondMoment = 3, D = 4, DMax = 5, Numerator = 6, Steps = 7;

    readonly HyperparameterSpec[] _specs;
    readonly double _epsilon, _d0, _growthRate;
    readonly double? _beta3;
    readonly bool _decoupled, _biasCorrection, _safeguardWarmup;
    readonly int _sliceP;

    /// <param name="learningRate">The factor λ on d (1 by default; tuned in log10 space).</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment; β₃ = √β₂ decays s and the numerator.</param>
    /// <param name="dCoefficient">d_coef, the factor on the estimate of d.</param>
    /// <param name="weightDecay">ξ: decoupled (u gains ξ d λ w), or added to the gradient.</param>
    /// <param name="epsilon">ε of the denominator √v + d ε.</param>
    /// <param name="d0">The first estimate of d.</param>
    /// <param name="growthRate">The most d may grow per step (unbounded by default).</param>
    /// <param name="decoupled">AdamW-style weight decay (the reference's default).</param>
    /// <param name="biasCorrection">The reference's <c>use_bias_correction</c>: the step size d λ times √(1 − β₂^k) / (1 − β₁^k) at the k-th step taken.</param>
    /// <param name="safeguardWarmup">The reference's <c>safeguard_warmup</c>: s accumulates (d/d₀) d g, without λ, so that a warm-up of λ does not inflate d.</param>
    /// <param name="beta3">The reference's <c>beta3</c>, the decay of s and of the numerator; null for √β₂ (its default).</param>
    /// <param name="sliceP">The reference's <c>slice_p</c>: d's statistics (x₀, s and the numerator) on every p-th element of each weight tensor only, to save memory (1: every element).</param>
    public Prodigy(double learningRate = 1.0, double beta1 = 0.9, double beta2 = 0.999, double dCoefficient = 1.0, double weightDecay = 0,
        double epsilon = 1e-8, double d0 = 1e-6, double growthRate = double.PositiveInfinity, bool decoupled = true,
        bool biasCorrection = false, bool safeguardWarmup = false, double? beta3 = null, int sliceP = 1)
    {
        _specs =
        [
            Specs.StepSize(LearningRate, learningRate, "Factor λ on the adapted step size d."),
            Specs.Beta1(beta1),
            Specs.Beta2(beta2),
            new(DCoefficient, dCoefficient, Transform.Log10, Min: 1e-10, Summary: "Factor d_coef on the estimate of d."),
            Specs.WeightDecay(weightDecay, "Weight decay ξ."),
        ];
        RuleChecks.Validate(nameof(Prodigy), _specs);
        RuleChecks.Positive(nameof(Prodigy), (nameof(epsilon), epsilon), (nameof(d0), d0), (nameof(growthRate), growthRate));
        if (beta3 is { } b3 && !(b3 >= 0 && b3 < 1))
            throw new TrainTuneException($"{nameof(Prodigy)}: beta3 must lie in [0, 1), not {b3}; null takes √β₂ as the reference does.");
        (_epsilon, _d0, _growthRate, _decoupled) = (epsilon, d0, growthRate, decoupled);
        if (sliceP < 1) throw new TrainTuneException($"{nameof(Prodigy)}: sliceP must be at least 1 (every element), not {sliceP}.");
        (_biasCorrection, _safeguardWarmup, _beta3, _sliceP) = (biasCorrection, safeguardWarmup, beta3, sliceP);
    }

    /// <summary>Every p-th element of each member's flattened tensor (slice_p); the tensor itself for p = 1.</summary>
    Tensor Sliced(MemberLayout members, Tensor t)
    {
        if (_sliceP == 1) return t;
        var rows = members == MemberLayout.Single ? t.reshape(1, -1) : t.reshape(members.Members, -1);
        var sliced = rows.slice(1, 0, rows.shape[1], _sliceP);
        return members == MemberLayout.Single ? sliced.reshape(-1) : sliced;
    }

    long[] ISlicedState.Shape(int state, long[] weightShape, MemberLayout members)
    {
        if (_sliceP == 1 || state is not (InitialWeight or Sum)) return weightShape;
        var single = members == MemberLayout.Single;
        var perMember = weightShape.Skip(single ? 0 : 1).Aggregate(1L, (a, b) => a * b);
        var kept = (perMember + _sliceP - 1) / _sliceP;
        return single ? [kept] : [members.Members, kept];
    }

    public IReadOnlyList<HyperparameterSpec> Hyperparameters => _specs;

    /// <summary>Changes the bounds of hyperparameter <paramref name="name"/> for this instance (null: unbounded on that side); checked when a run starts.</summary>
    public void SetBounds(string name, double? min, double? max) => RuleChecks.Change(nameof(Prodigy), _specs, name, s => s with { Min = min, Max = max });

    /// <summary>Changes the transform hyperparameter <paramref name="name"/> is tuned in for this instance (e.g. Transform.Identity to tune it from 0); checked when a run starts.</summary>
    public void SetTransform(string name, Transform transform) => RuleChecks.Change(nameof(Prodigy), _specs, name, s => s with { Transform = transform });

    public IReadOnlyList<string> StateNames { get; } = ["initialWeight", "sum", "firstMoment", "secondMoment", "d", "dMax", "numerator", "steps"];

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var at = new AcrossWeights(this, members, weights, grads, values, state);
        if (at.First(D))
        {
            for (var k = 0; k < at.Count; k++)
            {
                state[k][InitialWeight] = Sliced(members, weights[k].detach()).clone();
                state[k][Sum] = zeros_like(state[k][InitialWeight]!);
                for (var j = FirstMoment; j <= SecondMoment; j++) state[k][j] = zeros_like(weights[k]);
            }
            at.SetGlobal(D, at.Constant(_d0));
            at.SetGlobal(DMax, at.Constant(_d0));
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
        var beta3 = _beta3 is { } fixedBeta3 ? at.Constant(fixedBeta3) : at.Scalar(Beta2Index).sqrt();
        var g = Enumerable.Range(0, at.Count)
            .Select(k => _decoupled ? grads[k] : grads[k] + at.Value(WeightDecayIndex, k) * weights[k]).ToArray();
        var scaled = d / _d0 * dlr;
        var accumulated = _safeguardWarmup ? d / _d0 * d : scaled;
        var numerator = beta3 * at.Global(Numerator)! + scaled * at.Sum(k => Sliced(members, g[k]) * (state[k][InitialWeight]! - Sliced(members, weights[k])));
        var m = new Tensor[at.Count];
        var v = new Tensor[at.Count];
        var s = new Tensor[at.Count];
        for (var k = 0; k < at.Count; k++)
        {
            var beta1 = at.Value(Beta1Index, k);
            var beta2 = at.Value(Beta2Index, k);
            var dK = at.Spread(d, k);
            m[k] = beta1 * state[k][FirstMoment]! + dK * (1 - beta1) * g[k];
            v[k] = beta2 * state[k][SecondMoment]! + dK.square() * (1 - beta2) * g[k].square();
            // s is sliced (slice_p): its per-member factors spread over its own rank.
            var sliced = Sliced(members, g[k]);
            s[k] = members.SpreadTo(beta3, (int)sliced.dim()) * state[k][Sum]! + members.SpreadTo(accumulated, (int)sliced.dim()) * sliced;
        }
        // Σ|s| = 0 only while every gradient so far was 0: the reference then skips the step (d,
        // its maximum and the numerator unchanged, no update), and so does a member here.
        var (quotient, progressed) = ZeroSafe.Divide(numerator, at.Sum(k => s[k].abs()));
        var dHat = at.Scalar(DCoefficientIndex) * quotient;
        var raised = torch.where(d.eq(_d0), d.maximum(dHat), d);
        var dMax = torch.where(progressed, at.Global(DMax)!.maximum(dHat), at.Global(DMax)!);
        var dNew = torch.where(progressed, dMax.minimum(raised * _growthRate), d);
        at.SetGlobal(D, dNew);
        at.SetGlobal(DMax, dMax);
        at.SetGlobal(Numerator, torch.where(progressed, numerator, at.Global(Numerator)!));
        at.SetGlobal(Steps, torch.where(progressed, step, at.Global(Steps)!));
        var updates = new Tensor[at.Count];
        for (var k = 0; k < at.Count; k++)
        {
            (state[k][FirstMoment], state[k][SecondMoment], state[k][Sum]) = (m[k], v[k], s[k]);
            var dlrK = at.Spread(dlr, k);
            // β₁ = 0: the reference keeps no first moment and steps along the new d times g (m holds the old d).
            var direction = torch.where(at.Value(Beta1Index, k).eq(0), at.Spread(dNew, k) * g[k], m[k]);
            updates[k] = dlrK * direction / (ZeroSafe.Sqrt(v[k]) + at.Spread(dNew, k) * _epsilon);
            if (_decoupled) updates[k] = updates[k] + at.Value(WeightDecayIndex, k) * dlrK * weights[k];
            updates[k] = updates[k].masked_fill(at.Spread(progressed, k).logical_not(), 0);
        }
        return updates;
    }

}
