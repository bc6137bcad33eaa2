namespace TrainTune;

/// <summary>
/// Marks a <c>Tensor</c> field of a <c>[WeightUpdate]</c> or <c>[TunableModel]</c> class as a
/// tunable hyperparameter. The field holds the current value when the rule or the model runs.
/// The field's XML doc summary becomes the hyperparameter's description.
/// </summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class HyperparameterAttribute : Attribute
{
    /// <summary>Initial value (in value space, not raw space).</summary>
    public double Initial { get; set; }

    /// <summary>How the value is made from the raw value that is optimised.</summary>
    public Transform Transform { get; set; } = Transform.Identity;

    /// <summary>Smallest value; the raw value is clamped to it after each hyper step.</summary>
    public double Min { get; set; } = double.NegativeInfinity;

    /// <summary>Largest value; the raw value is clamped to it after each hyper step.</summary>
    public double Max { get; set; } = double.PositiveInfinity;

    /// <summary>One value per weight (a weight-shaped tensor) instead of one in all.</summary>
    public bool PerWeight { get; set; }
}
