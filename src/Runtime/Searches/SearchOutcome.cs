namespace TrainTune;

/// <summary>
/// What a search over whole runs found: the counted run (its seconds are all evaluations
/// together), its index and configuration, every evaluation's result, and a one-line note.
/// </summary>
public sealed record SearchOutcome(RunResult Best, int BestIndex, TuningRun BestRun, IReadOnlyList<RunResult> Evaluations, string Note)
{
    /// <summary>How many evaluations diverged.</summary>
    public int Diverged => Evaluations.Count(r => r.Diverged);

    /// <summary>The index of the run with the lowest final validation loss among those that did not diverge (0 when all did).</summary>
    internal static int BestByValidation(IReadOnlyList<RunResult> results)
    {
        var best = -1;
        for (var i = 0; i < results.Count; i++)
            if (!results[i].Diverged && double.IsFinite(results[i].ValidationLoss) && (best < 0 || results[i].ValidationLoss < results[best].ValidationLoss)) best = i;
        return Math.Max(best, 0);
    }

    /// <summary>The best finite validation loss of the runs so far that did not diverge; null when there is none.</summary>
    internal static double? BestValidationSoFar(IReadOnlyList<RunResult> results)
    {
        var finite = results.Where(r => !r.Diverged && double.IsFinite(r.ValidationLoss)).Select(r => r.ValidationLoss).ToList();
        return finite.Count == 0 ? null : finite.Min();
    }
}
