using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Prodigy (Mishchenko and Defazio, ICML 2024), after the authors' reference
/// (konstmish/prodigy, <c>Prodigy</c> with its defaults: decoupled weight decay, no bias
/// correction, β₃ = √β₂): Adam whose moments carry the distance estimate d, raised to
/// d_coef · Σ (d/d₀) d λ ⟨g, x₀ − w⟩ (decayed by β₃) / ‖s‖₁ when that is larger. The step uses
/// the d from before this step, its denominator √v + d ε the new one.
/// </summary>
public sealed class Prodigy : IAcrossWeightsUpdate
{
    public const string LearningRate = "learningRate", Beta1 = "beta1", Beta2 = "beta2", DCoefficient = "dCoefficient", WeightDecay = "weightDecay";
    const int LearningRateIndex = 0, Beta1Index = 1, Beta2Index = 2, DCoefficientIndex = 3, WeightDecayIndex = 4;
    const int InitialWeight = 0, Sum = 1, FirstMoment = 2, SecondMoment = 3, D = 4, DMax = 5, Numerator = 6;

    readonly HyperparameterSpec[] _specs;
    readonly double _epsilon, _d0, _growthRate;
    readonly bool _decoupled;

    /// <param name="learningRate">The factor λ on d (1 by default; tuned in log10 space).</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment; β₃ = √β₂ decays s and the numerator.</param>
    /// <param name="dCoefficient">d_coef, the factor on the estimate of d.</param>
    /// <param name="weightDecay">ξ: decoupled (u gains ξ d λ w), or added to the gradient.</param>
    /// <param name="epsilon">ε of the denominator √v + d ε.</param>
    /// <param name="d0">The first estimate of d.</param>
    /// <param name="growthRate">The most d may grow per step (unbounded by default).</param>
    /// <param name="decoupled">AdamW-style weight decay (the reference's default).</param>
    public Prodigy(double learningRate = 1.0, double beta1 = 0.9, double beta2 = 0.999, double dCoefficient = 1.0, double weightDecay = 0,
        double epsilon = 1e-8, double d0 = 1e-6, double growthRate = double.PositiveInfinity, bool decoupled = true)
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
        (_epsilon, _d0, _growthRate, _decoupled) = (epsilon, d0, growthRate, decoupled);
    }

    public IReadOnlyList<HyperparameterSpec> Hyperparameters => _specs;

    public IReadOnlyList<string> StateNames { get; } = ["initialWeight", "sum", "firstMoment", "secondMoment", "d", "dMax", "numerator"];

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var at = new AcrossWeights(this, members, weights, grads, values, state);
        if (at.First(D))
        {
            for (var k = 0; k < at.Count; k++)
            {
                state[k][InitialWeight] = weights[k].detach().clone();
                for (var j = Sum; j <= SecondMoment; j++) state[k][j] = zeros_like(weights[k]);
            }
            at.SetGlobal(D, at.Constant(_d0));
            at.SetGlobal(DMax, at.Constant(_d0));
            at.SetGlobal(Numerator, at.Constant(0));
        }
        var d = at.Global(D)!;
        var dlr = d * at.Scalar(LearningRateIndex);
        var beta3 = at.Scalar(Beta2Index).sqrt();
        var g = Enumerable.Range(0, at.Count)
            .Select(k => _decoupled ? grads[k] : grads[k] + at.Value(WeightDecayIndex, k) * weights[k]).ToArray();
        var scaled = d / _d0 * dlr;
        var numerator = beta3 * at.Global(Numerator)! + scaled * at.Sum(k => g[k] * (state[k][InitialWeight]! - weights[k]));
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
            s[k] = at.Spread(beta3, k) * state[k][Sum]! + at.Spread(scaled, k) * g[k];
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
        var updates = new Tensor[at.Count];
        for (var k = 0; k < at.Count; k++)
        {
            (state[k][FirstMoment], state[k][SecondMoment], state[k][Sum]) = (m[k], v[k], s[k]);
            var dlrK = at.Spread(dlr, k);
            updates[k] = dlrK * m[k] / (ZeroSafe.Sqrt(v[k]) + at.Spread(dNew, k) * _epsilon);
            if (_decoupled) updates[k] = updates[k] + at.Value(WeightDecayIndex, k) * dlrK * weights[k];
            updates[k] = updates[k].masked_fill(at.Spread(progressed, k).logical_not(), 0);
        }
        return updates;
    }

}
