using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A set of the model's parameters with values of its own, as torch.optim's param groups: chosen
/// by parameter name (<see cref="Matching"/>, <see cref="Where"/>) or by submodule
/// (<see cref="Under"/>), with its own initial values (<see cref="StartingFrom"/>) and the
/// hyperparameters it holds fixed (<see cref="Holding(string, double)"/>); the rest are tuned, as
/// one value shared with the other groups unless the run tunes them per group
/// (<see cref="TuningRun.WithPerGroup"/>). Every trainable parameter belongs to exactly one group
/// (<see cref="Rest"/> takes those no other group chooses). Give a run its groups with
/// <see cref="TuningRun.WithGroups"/> or <see cref="Tuner.For"/>.
/// </summary>
public sealed record ParameterGroup
{
    ParameterGroup(string name, string selection, Func<string, Tensor, bool> selects, bool rest = false)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new TrainTuneException("A parameter group needs a name: it names the group in errors, records and reports.");
        (Name, Selection, Selects, IsRest) = (name, selection, selects, rest);
    }

    /// <summary>The group's name, as records, result.json, reports and TensorBoard show it.</summary>
    public string Name { get; }

    /// <summary>How the group chooses its parameters, in words.</summary>
    public string Selection { get; }

    internal Func<string, Tensor, bool> Selects { get; }

    internal bool IsRest { get; }

    /// <summary>Initial values of this group's hyperparameters, by name (the run's for the others).</summary>
    public IReadOnlyDictionary<string, double> InitialValues { get; init; } = new Dictionary<string, double>();

    /// <summary>The hyperparameters this group holds at their initial values: no method changes them here.</summary>
    public IReadOnlyCollection<string> Held { get; init; } = [];

    /// <summary>The parameters for which <paramref name="selects"/>(name, parameter) is true (e.g. <c>(n, p) => p.dim() == 1</c>).</summary>
    public static ParameterGroup Where(string name, Func<string, Tensor, bool> selects) =>
        new(name, "a predicate", selects ?? throw new ArgumentNullException(nameof(selects)));

    /// <summary>
    /// The parameters whose full name (as <c>named_parameters()</c> gives it, e.g. <c>encoder.0.weight</c>)
    /// matches one of <paramref name="patterns"/>: <c>*</c> any characters, <c>?</c> one, e.g. <c>*.bias</c>.
    /// </summary>
    public static ParameterGroup Matching(string name, params string[] patterns)
    {
        if (patterns is null || patterns.Length == 0 || patterns.Any(string.IsNullOrWhiteSpace))
            throw new TrainTuneException($"Parameter group '{name}': give at least one non-empty pattern, e.g. \"*.bias\".");
        var regexes = patterns.Select(p => new Regex("^" + Regex.Escape(p).Replace("\\*", ".*").Replace("\\?", ".") + "$", RegexOptions.CultureInvariant)).ToArray();
        return new(name, $"the patterns {string.Join(", ", patterns)}", (parameter, _) => regexes.Any(r => r.IsMatch(parameter)));
    }

    /// <summary>The parameters of the submodule at <paramref name="modulePath"/> (e.g. <c>backbone</c>, <c>layers.0</c>): names that start with it and a dot.</summary>
    public static ParameterGroup Under(string name, string modulePath)
    {
        if (string.IsNullOrWhiteSpace(modulePath)) throw new TrainTuneException($"Parameter group '{name}': give the submodule's path, e.g. \"backbone\".");
        var prefix = modulePath.TrimEnd('.') + ".";
        return new(name, $"the submodule {modulePath}", (parameter, _) => parameter.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>Every parameter no other group chooses.</summary>
    public static ParameterGroup Rest(string name = "rest") => new(name, "every parameter no other group chooses", (_, _) => false, rest: true);

    /// <summary>
    /// torch's common recipe in one line: weight decay on the weight matrices and kernels (two or
    /// more dimensions, "decay"), none on biases and normalisation weights (one dimension, "no_decay",
    /// which holds <paramref name="weightDecay"/> at 0).
    /// </summary>
    public static ParameterGroup[] NoWeightDecayOnBiasesAndNorms(string weightDecay = "weightDecay") =>
    [
        Where("decay", (parameter, p) => p.dim() > 1 && !parameter.EndsWith("bias", StringComparison.Ordinal)),
        Rest("no_decay").Holding(weightDecay, 0),
    ];

    /// <summary>This group with initial values of its own, by hyperparameter name.</summary>
    public ParameterGroup StartingFrom(IReadOnlyDictionary<string, double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var merged = new Dictionary<string, double>(InitialValues);
        foreach (var (key, value) in values) merged[key] = value;
        return this with { InitialValues = merged };
    }

    /// <summary>This group holding <paramref name="hyperparameter"/> at <paramref name="value"/> (0 is a value: no weight decay).</summary>
    public ParameterGroup Holding(string hyperparameter, double value) =>
        StartingFrom(new Dictionary<string, double> { [hyperparameter] = value }) with { Held = [.. Held, hyperparameter] };

    /// <summary>This group holding <paramref name="hyperparameters"/> at their initial values (the group's, or the run's).</summary>
    public ParameterGroup Holding(params string[] hyperparameters) => this with { Held = [.. Held, .. hyperparameters] };

    public override string ToString() => $"{Name} ({Selection})";
}
