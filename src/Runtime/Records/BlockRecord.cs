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
}
