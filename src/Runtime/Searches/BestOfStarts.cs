using System.Globalization;
using TrainTune.Hosting;

namespace TrainTune;

/// <summary>Runs a <see cref="BestOfMethod"/>: its starts as one population, the best by final validation loss counted.</summary>
internal static class BestOfStarts
{
    public static SearchOutcome Run(TuningRun run, BestOfMethod method)
    {
        if (run.Resume)
            throw new TrainTuneException("BestOf cannot be resumed: its starts train as one population, which keeps no checkpoint; run it again without resuming.");
        // The paper's ranges are for SGD-like step sizes; these rules' "learningRate" is a factor near 1 or a default they ship.
        if (run.Rule is IAcrossWeightsUpdate && method.Starts > 1)
            throw new TrainTuneException($"BestOf draws its other starts from the paper's ranges for SGD's hyperparameters, which do not fit {run.Rule.GetType().Name} (its learningRate is its own step size or a factor on its adapted one); train its starts yourself with TuningRun.RunPopulation and initial values of your choice.");
        var starts = Starts(run, method);
        var results = TuningRun.RunPopulation(starts);
        var best = SearchOutcome.BestByValidation(results);
        if (run.RecordPath is not null) File.Copy(starts[best].RecordPath!, run.RecordPath, overwrite: true);
        var diverged = results.Count(r => r.Diverged);
        var note = string.Create(CultureInfo.InvariantCulture,
            $"best of {results.Count} starts by final validation loss: start {best} ({results[best].ValidationLoss:G4}; the others' median {Median(results.Where((_, i) => i != best).Select(r => r.ValidationLoss)):G4}); {diverged} diverged; seconds are all starts together");
        return new SearchOutcome(results[best] with { Seconds = results.Sum(r => r.Seconds), Timing = RunTiming.Sum(results) }, best, starts[best], results, note);
    }

    /// <summary>The starts: the run itself, then random initial values with seeds of their own; each with its own record beside the run's.</summary>
    public static IReadOnlyList<TuningRun> Starts(TuningRun run, BestOfMethod method) =>
        Enumerable.Range(0, method.Starts).Select(k =>
        {
            var start = run.Tune(method.Inner) with { CheckpointPath = null, Resume = false, Progress = k == 0 ? run.Progress : null };
            if (k > 0)
            {
                var seed = run.Seed + k * 1_000_003L;
                var values = run.InitialValues?.ToDictionary() ?? [];
                foreach (var (name, value) in ExperimentProtocol.RandomInitial(seed, run.Rule)) values[name] = value;
                start = start.WithSeed(seed).StartingFrom(values);
            }
            if (run.RecordPath is { } record)
                start = start.RecordTo(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(record))!, HostProtocol.StartRecordFile(k)));
            if (run.TensorBoardPath is { } board) start = start.LogToTensorBoard(Path.Combine(board, $"start-{k}"));
            return start;
        }).ToList();

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}
