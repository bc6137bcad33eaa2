using System.Globalization;

namespace TrainTune;

/// <summary>
/// A multiplier of a hyperparameter's value by the step, as a <c>torch.optim.lr_scheduler</c>
/// stepped after every weight step gives: the rule reads m(t) · λ at step t (0 for the first step),
/// while a tuning method tunes the base value λ (the hypergradient goes through m(t)). Set one with
/// <see cref="TuningRun.WithSchedule"/> or <see cref="Tuner.WithSchedule"/>; combine two with <see cref="Times"/>.
/// </summary>
public sealed class Schedule
{
    readonly Func<int, double> _multiplier;

    Schedule(string description, Func<int, double> multiplier) => (Description, _multiplier) = (description, multiplier);

    /// <summary>What the schedule is, in words (the record's start line lists it).</summary>
    public string Description { get; }

    /// <summary>The multiplier at step <paramref name="step"/> (0 for the first weight step).</summary>
    public double At(int step) => _multiplier(step);

    /// <summary>
    /// A linear warm-up over <paramref name="steps"/> steps from <paramref name="startFactor"/> to 1,
    /// then 1: m(t) = s + (1 − s) · min(t, steps) / steps (<c>LinearLR</c>).
    /// </summary>
    public static Schedule LinearWarmup(int steps, double startFactor = 0)
    {
        if (steps < 1) throw new TrainTuneException($"Schedule.LinearWarmup: steps must be at least 1, not {steps}.");
        if (!(startFactor >= 0 && startFactor <= 1)) throw new TrainTuneException($"Schedule.LinearWarmup: startFactor must lie in [0, 1], not {F(startFactor)}.");
        return new($"linear warm-up over {steps} steps from {F(startFactor)}", t => startFactor + (1 - startFactor) * Math.Min(t, steps) / steps);
    }

    /// <summary>
    /// Cosine decay from 1 to <paramref name="minFactor"/> over <paramref name="steps"/> steps, then
    /// <paramref name="minFactor"/>: m(t) = f + (1 − f)(1 + cos(π min(t, steps) / steps)) / 2
    /// (<c>CosineAnnealingLR</c> with η_min = f · λ).
    /// </summary>
    public static Schedule Cosine(int steps, double minFactor = 0)
    {
        if (steps < 1) throw new TrainTuneException($"Schedule.Cosine: steps must be at least 1, not {steps}.");
        if (!(minFactor >= 0 && minFactor <= 1)) throw new TrainTuneException($"Schedule.Cosine: minFactor must lie in [0, 1], not {F(minFactor)}.");
        return new($"cosine decay over {steps} steps to {F(minFactor)}", t => minFactor + (1 - minFactor) * (1 + Math.Cos(Math.PI * Math.Min(t, steps) / steps)) / 2);
    }

    /// <summary>Multiplies by <paramref name="factor"/> every <paramref name="every"/> steps: m(t) = factor^⌊t / every⌋ (<c>StepLR</c>).</summary>
    public static Schedule StepDecay(int every, double factor)
    {
        if (every < 1) throw new TrainTuneException($"Schedule.StepDecay: every must be at least 1 step, not {every}.");
        if (!(factor > 0 && double.IsFinite(factor))) throw new TrainTuneException($"Schedule.StepDecay: factor must be a finite number greater than 0, not {F(factor)}.");
        return new($"× {F(factor)} every {every} steps", t => Math.Pow(factor, t / every));
    }

    /// <summary>A multiplier of your own, a function of the step (0 for the first); it must return a finite number ≥ 0.</summary>
    public static Schedule Of(Func<int, double> multiplier, string description = "a function of the step") =>
        new(description, multiplier ?? throw new ArgumentNullException(nameof(multiplier)));

    /// <summary>The product of this schedule and <paramref name="other"/>, e.g. a warm-up times a cosine decay.</summary>
    public Schedule Times(Schedule other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new($"{Description} × {other.Description}", t => At(t) * other.At(t));
    }

    /// <summary>The multiplier at <paramref name="step"/>, or a clear error naming <paramref name="hyperparameter"/> when it is negative or not finite.</summary>
    internal double Checked(int step, string hyperparameter)
    {
        var m = At(step);
        if (!(m >= 0 && double.IsFinite(m)))
            throw new TrainTuneException($"The schedule of '{hyperparameter}' ({Description}) gave the multiplier {F(m)} at step {step}: a multiplier must be a finite number ≥ 0. Nothing was changed by this step.");
        return m;
    }

    public override string ToString() => Description;

    static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
