using System.Globalization;
using TrainTune.Hosting;

namespace TrainTune;

/// <summary>
/// The paper's Random (3-batched) baseline: three runs with fixed hyperparameters on the
/// training data only; the one with the lowest final validation loss counts (3× the compute).
/// </summary>
public static class Random3BatchedSearch
{
    /// <summary>The counted run (its seconds are the three runs together), its index, its configuration, and every candidate's result.</summary>
    public sealed record Outcome(RunResult Best, int BestIndex, TuningRun BestRun, IReadOnlyList<RunResult> Candidates)
    {
        public string Note => $"best of 3 by final validation loss: candidate {BestIndex} ({string.Join(", ", Candidates.Select(r => r.ValidationLoss.ToString("G4", CultureInfo.InvariantCulture)))}); seconds are the three runs together";
    }

    /// <summary>
    /// Runs the three candidates of <paramref name="run"/> (see <see cref="MethodNames.BatchedCandidates"/>).
    /// With <paramref name="outputDirectory"/>, each candidate's record is <c>record-candidate-N.jsonl</c>
    /// there and the counted one is copied to <c>record.jsonl</c>.
    /// </summary>
    public static Outcome Run(TuningRun run, string? outputDirectory = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var candidates = MethodNames.BatchedCandidates(run)
            .Select((c, i) => c.AsSearchCandidate(i, 3, clock))
            .Select((c, i) => outputDirectory is null ? c : c.RecordTo(CandidateRecord(outputDirectory, i))).ToList();
        var results = candidates.Select(c => c.Run()).ToList();
        var best = MethodNames.BestByValidation(results);
        if (outputDirectory is not null)
            File.Copy(CandidateRecord(outputDirectory, best), Path.Combine(outputDirectory, HostProtocol.RecordFile), overwrite: true);
        return new Outcome(results[best] with { Seconds = results.Sum(r => r.Seconds), Timing = RunTiming.Sum(results) }, best, candidates[best], results);
    }

    static string CandidateRecord(string folder, int candidate) => Path.Combine(folder, $"record-candidate-{candidate}.jsonl");
}
