namespace TrainTune;

/// <summary>One line of a run's record: the state after a block of weight steps (a hyper step).</summary>
public sealed record BlockRecord(
    int Step,
    double TrainLoss,
    double ValidationLoss,
    IReadOnlyDictionary<string, HyperparameterValue> Hyperparameters,
    double? HypergradientNorm,
    bool HyperstepSkipped);
