namespace TrainTune;

/// <summary>
/// Describes one tunable quantity: its name, transform, bounds on its value (clamped on the
/// raw value after each hyper step), initial value, and whether it holds one value per weight.
/// </summary>
public sealed record HyperparameterSpec(
    string Name,
    double Initial,
    Transform Transform = Transform.Identity,
    double? Min = null,
    double? Max = null,
    bool PerWeight = false,
    string Summary = "")
{
    /// <summary>
    /// Whether a method that is not told which hyperparameters to tune tunes this one (true); false
    /// for a setting held unless named (D-Adaptation Adam's layer scale, set per parameter group).
    /// </summary>
    public bool TunedByDefault { get; init; } = true;

    /// <summary>Raw-space bounds that correspond to <see cref="Min"/> and <see cref="Max"/>.</summary>
    public (double? Min, double? Max) RawBounds =>
        (Min is { } min ? RawBound(min) : null, Max is { } max ? RawBound(max) : null);

    double? RawBound(double bound) =>
        Transform.ValueProblem(bound) is null ? Transform.ToRaw(bound) : null;

    /// <summary>The raw value of <see cref="Initial"/>.</summary>
    public double InitialRaw => Transform.ToRaw(Initial);

    /// <summary>Throws a <see cref="TrainTuneException"/> that says what to change when the spec is unusable.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
            throw new TrainTuneException("A hyperparameter has no name: give every hyperparameter a non-empty name.");
        if (Hosting.HyperparameterValueRules.Problem(Transform.ToString(), Initial, Min, Max, limitAllowed: true) is { } problem)
            throw new TrainTuneException($"Hyperparameter '{Name}': {problem}." + (OutsideBounds(Initial)
                ? $" A rule declared with [WeightUpdate] widens them for one instance with rule.SetBounds(\"{Name}\", min, max) (null for no bound)."
                : ""));
    }

    bool OutsideBounds(double value) => (Min is { } min && value < min) || (Max is { } max && value > max);

    /// <summary>This spec with another initial value (validated when the run starts).</summary>
    public HyperparameterSpec WithInitial(double initial) => this with { Initial = initial };
}
