using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Gradient clipping as the first part of the weight update, in front of any rule: the rule sees
/// the clipped gradients, out of place, so that the one-pass and Diff-through-Opt hypergradients
/// differentiate through the clipping as through the rule (as the paper's authors clip their
/// Penn Treebank LSTM at a global norm of 0.25). Set with
/// <see cref="TuningRun.WithGradientClipping"/> or <see cref="Tuner.WithGradientClipping"/>. In a
/// population each member's gradients are clipped by their own norm.
/// </summary>
internal sealed record GradientClipping
{
    GradientClipping(string kind, double threshold) => (Kind, Threshold) = (kind, threshold);

    /// <summary>"norm" or "value".</summary>
    public string Kind { get; }

    /// <summary>The largest global norm, or the largest absolute value of an element.</summary>
    public double Threshold { get; }

    /// <summary>
    /// g ← g · min(1, c / (‖g‖ + 10⁻⁶)), ‖g‖ over all weight tensors together:
    /// <c>torch.nn.utils.clip_grad_norm_</c>'s scaling, done out of place.
    /// </summary>
    public static GradientClipping ByNorm(double maxNorm) => new("norm", Positive(maxNorm, nameof(ByNorm), "largest norm maxNorm", "0.25 for the paper's LSTM"));

    /// <summary>g ← clamp(g, −c, c) elementwise: <c>torch.nn.utils.clip_grad_value_</c>, done out of place.</summary>
    public static GradientClipping ByValue(double maxValue) => new("value", Positive(maxValue, nameof(ByValue), "largest absolute value maxValue", "e.g. 1"));

    /// <summary>What <c>WithGradientClipping(maxNorm, maxValue)</c> asks for: at most one of them; neither is no clipping.</summary>
    public static GradientClipping? From(double? maxNorm, double? maxValue) => (maxNorm, maxValue) switch
    {
        (null, null) => null,
        ({ } norm, null) => ByNorm(norm),
        (null, { } value) => ByValue(value),
        _ => throw new TrainTuneException($"WithGradientClipping: give maxNorm or maxValue, not both (got {maxNorm} and {maxValue})."),
    };

    static double Positive(double value, string method, string what, string example) =>
        double.IsFinite(value) && value > 0 ? value
            : throw new TrainTuneException($"WithGradientClipping: the {what} must be a positive number ({example}), not {value}; to train without clipping, leave it out.");

    /// <summary>The clipped gradients, out of place (differentiable when <paramref name="grads"/> carry a graph).</summary>
    internal Tensor[] Apply(MemberLayout members, IReadOnlyList<Tensor> grads)
    {
        if (Kind == "value") return grads.Select(g => g.clamp(-Threshold, Threshold)).ToArray();
        var squares = grads.Select(g => members.Sum(g.square())).Aggregate((a, b) => a + b);
        // √ with derivative 0 at 0: a gradient of zeros is left as it is, with a finite derivative.
        var factor = (Threshold / (ZeroSafe.Sqrt(squares) + 1e-6)).clamp_max(1.0);
        return grads.Select(g => g * members.Spread(factor, g)).ToArray();
    }

    /// <summary>"norm 0.25", "value 1": how the record and the report name it.</summary>
    public override string ToString() => $"{Kind} {Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
