namespace TrainTune;

/// <summary>One line of a run's record: the state after a block of weight steps (a hyper step).</summary>
public sealed record BlockRecord(
    int Step,
    double TrainLoss,
    double ValidationLoss,
    IReadOnlyDictionary<string, HyperparameterValue> Hyperparameters,
    double? HypergradientNorm,
    bool HyperstepSkipped)
{
    /// <summary>When the hyper step was skipped: the hyperparameters whose hypergradient was not finite.</summary>
    public IReadOnlyList<string> NotFinite { get; init; } = [];

    /// <summary>Values the loop set during the block with <see cref="Tuner.Set"/>, by name (the last of each): they are the caller's, not the method's.</summary>
    public IReadOnlyDictionary<string, double> Set { get; init; } = new Dictionary<string, double>();
}
