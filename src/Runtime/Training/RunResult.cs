namespace TrainTune;

/// <summary>How a run ended: final losses on the full splits, hyperparameters, and its history.</summary>
public sealed record RunResult(
    string Method,
    long Seed,
    int StepsCompleted,
    int? DivergedAtStep,
    double TrainLoss,
    double ValidationLoss,
    double? TestLoss,
    IReadOnlyDictionary<string, HyperparameterValue> InitialHyperparameters,
    IReadOnlyDictionary<string, HyperparameterValue> FinalHyperparameters,
    int SkippedHypersteps,
    double Seconds,
    IReadOnlyList<BlockRecord> History)
{
    public bool Diverged => DivergedAtStep is not null;

    /// <summary>The final losses in the run's metric (see <see cref="TuningRun.WithMetric"/>).</summary>
    public RunMetric? Metric { get; init; }

    /// <summary>The libtorch threads the run used, and why.</summary>
    public ThreadChoice? Threads { get; init; }

    /// <summary>Where the run's time went.</summary>
    public RunTiming? Timing { get; init; }

    /// <summary>"diverged at step s", or null.</summary>
    public string? DivergenceNote => DivergedAtStep is { } s ? $"diverged at step {s}" : null;
}

/// <summary>Progress after a block, for logs and progress displays.</summary>
public sealed record RunProgress(int Step, int TotalSteps, double TrainLoss, double ValidationLoss,
    IReadOnlyDictionary<string, HyperparameterValue> Hyperparameters, TimeSpan Elapsed)
{
    /// <summary>The final evaluation's expected seconds (the losses on the full splits after the last step), timed on one chunk after the first block; null before.</summary>
    public double? EvaluationSeconds { get; init; }

    /// <summary>Hyper steps skipped so far because their hypergradient was not finite.</summary>
    public int SkippedHypersteps { get; init; }

    /// <summary>When this block's hyper step was skipped: the hyperparameters whose hypergradient was not finite.</summary>
    public IReadOnlyList<string> NotFinite { get; init; } = [];
}

/// <summary>The run's metric on the full splits: loss × scale, or a <see cref="TrainTune.Metric"/> computed from the model's output.</summary>
public sealed record RunMetric(string Name, double Train, double Validation, double? Test)
{
    /// <summary>Whether larger values are better (accuracy).</summary>
    public bool HigherIsBetter { get; init; }
}

/// <summary>
/// Seconds of a run: <see cref="Setup"/> from <see cref="TuningRun.Run"/> to the first step (models,
/// data on the device, checks, the start of the record), <see cref="Training"/> the weight and hyper
/// steps, <see cref="FinalEvaluation"/> the losses on the full splits.
/// </summary>
public sealed record RunTiming(double Setup, double Training, double FinalEvaluation)
{
    /// <summary>Several runs' times added up (a search's candidates).</summary>
    public static RunTiming? Sum(IEnumerable<RunResult> runs) => runs.Select(r => r.Timing).Aggregate((RunTiming?)null, (sum, t) =>
        t is null ? sum : sum is null ? t : new(sum.Setup + t.Setup, sum.Training + t.Training, sum.FinalEvaluation + t.FinalEvaluation));
}
