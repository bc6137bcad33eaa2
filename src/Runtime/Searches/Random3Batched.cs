using System.Globalization;
using TrainTune.Hosting;

namespace TrainTune;

/// <summary>
/// The paper's Random (3-batched) baseline: three runs with fixed hyperparameters on the
/// training data only; the one with the lowest final validation loss counts (3× the compute).
/// </summary>
internal static class Random3BatchedSearch
{
    public static SearchOutcome Run(TuningRun run, string? outputDirectory = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The three as one population where the model can be stacked (progress: the first's); one after another otherwise.
        var together = PopulationModel.Problem(run.ModelFactory) is null;
        var candidates = Candidates(run)
            .Select((c, i) => !together ? c.AsSearchCandidate(i, 3, clock)
                : i == 0 ? c.AsSearchCandidate(0, 1, clock) : c.AsSearchCandidate(0, 1, clock) with { Progress = null })
            .Select((c, i) => outputDirectory is null ? c : c.RecordTo(CandidateRecord(outputDirectory, i))).ToList();
        return Outcome(candidates, together ? TuningRun.RunPopulation(candidates) : OneAfterAnother(candidates), outputDirectory);
    }

    /// <summary>
    /// The candidates one after another, each told the best validation loss so far: one that does
    /// not beat it cannot be counted and skips its train and test evaluation.
    /// </summary>
    internal static IReadOnlyList<RunResult> OneAfterAnother(IReadOnlyList<TuningRun> candidates)
    {
        var results = new List<RunResult>();
        foreach (var candidate in candidates) results.Add(candidate.CountedOnlyBelow(results).Run());
        return results;
    }

    /// <summary>The counted candidate of three that have run; with <paramref name="outputDirectory"/>, its record becomes the run's.</summary>
    public static SearchOutcome Outcome(IReadOnlyList<TuningRun> candidates, IReadOnlyList<RunResult> results, string? outputDirectory)
    {
        var best = SearchOutcome.BestByValidation(results);
        if (outputDirectory is not null)
            File.Copy(CandidateRecord(outputDirectory, best), Path.Combine(outputDirectory, HostProtocol.RecordFile), overwrite: true);
        var note = $"best of 3 by final validation loss: candidate {best} ({string.Join(", ", results.Select(r => r.ValidationLoss.ToString("G4", CultureInfo.InvariantCulture)))}); seconds are the three runs together";
        return new SearchOutcome(results[best] with { Seconds = results.Sum(r => r.Seconds), Timing = RunTiming.Sum(results) }, best, candidates[best], results, note);
    }

    /// <summary>
    /// The three candidates: fixed hyperparameters, training data only. Candidate 0 is
    /// <paramref name="run"/> as it is (seed s); candidate c = 1, 2 has weight seed s + c·1000003
    /// and the paper's random initial values drawn for that seed.
    /// </summary>
    public static IReadOnlyList<TuningRun> Candidates(TuningRun run) =>
        Enumerable.Range(0, 3).Select(c =>
        {
            var candidate = run.Tune(Method.Fixed());
            if (c == 0) return candidate;
            var seed = run.Seed + c * 1_000_003L;
            var values = run.InitialValues?.ToDictionary() ?? [];
            foreach (var (name, value) in ExperimentProtocol.RandomInitial(seed, run.Rule)) values[name] = value;
            return candidate.WithSeed(seed).StartingFrom(values);
        }).ToList();

    static string CandidateRecord(string folder, int candidate) => Path.Combine(folder, $"record-candidate-{candidate}.jsonl");
}
