using System.Globalization;

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
        if (Transform.ValueProblem(Initial) is { } why)
            throw new TrainTuneException($"Hyperparameter '{Name}': initial value {F(Initial)} is invalid for its {Transform} transform ({why}).");
        if (Min is { } min && Max is { } max && min > max)
            throw new TrainTuneException($"Hyperparameter '{Name}': its minimum {F(min)} is above its maximum {F(max)}.");
        foreach (var bound in new[] { Min, Max })
            if (bound is { } b && Transform.ValueProblem(b) is { } bad)
                throw new TrainTuneException($"Hyperparameter '{Name}': bound {F(b)} is invalid for its {Transform} transform ({bad}).");
        if ((Min is { } lo && Initial < lo) || (Max is { } hi && Initial > hi))
            throw new TrainTuneException(
                $"Hyperparameter '{Name}': initial value {F(Initial)} lies outside its bounds [{F(Min)}, {F(Max)}]; choose an initial value within them or widen the bounds.");
    }

    static string F(double? value) => value is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) : "unbounded";

    /// <summary>This spec with another initial value (validated when the run starts).</summary>
    public HyperparameterSpec WithInitial(double initial) => this with { Initial = initial };
}
