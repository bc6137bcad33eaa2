using System.Globalization;
using System.Text;
using TrainTune.Hosting;

namespace TrainTune;

/// <summary>
/// The paper's Bayesian-optimisation baseline: whole training runs with fixed hyperparameters
/// on the training data, 5 at random and 25 chosen by expected improvement under a Gaussian
/// process, over the paper's ranges (log10 η ∈ [−6, −1], log10 ξ ∈ [−7, −2], μ ∈ (0, 1)).
/// The objective is log of the final validation loss; a diverged run gets a penalty above
/// every loss seen and is counted. The best run by validation loss is the result.
/// </summary>
internal static class BayesOptSearch
{
    public static SearchOutcome Run(TuningRun run, string? outputDirectory = null, int randomEvaluations = 5, int guidedEvaluations = 25)
    {
        var dimensions = ExperimentProtocol.PaperRanges.Where(d => run.Rule.Hyperparameters.Any(h => h.Name == d.Name)).ToArray();
        if (dimensions.Length == 0)
            throw new TrainTuneException($"BayesOpt searches learningRate, weightDecay and momentum, and the rule {run.Rule.GetType().Name} has none of them (it has {string.Join(", ", run.Rule.Hyperparameters.Select(h => h.Name))}).");
        var optimiser = new BayesianOptimisation(dimensions.Length, unchecked((int)run.Seed), randomEvaluations);
        var evaluations = new List<RunResult>();
        var runs = new List<TuningRun>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var table = new StringBuilder("evaluation," + string.Join(",", dimensions.Select(d => d.Name)) + ",validation_loss,diverged,objective\n");
        for (var e = 0; e < randomEvaluations + guidedEvaluations; e++)
        {
            var point = optimiser.Next();
            var values = dimensions.Select((d, i) => (d.Name, Value: d.FromUnit(point[i]))).ToDictionary(v => v.Name, v => v.Value);
            var evaluation = run.AsSearchCandidate(e, randomEvaluations + guidedEvaluations, clock).Tune(Method.Fixed()).StartingFrom(values).WithSeed(run.Seed + e);
            runs.Add(evaluation);
            // Only an evaluation that beats every earlier one can be counted: the others evaluate their validation loss only.
            var result = (outputDirectory is null ? evaluation : evaluation.RecordTo(EvaluationRecord(outputDirectory, e))).CountedOnlyBelow(evaluations).Run();
            evaluations.Add(result);
            var finite = optimiser.Observations.Select(o => o.Y).Where(double.IsFinite).DefaultIfEmpty(0).Max();
            var objective = !result.Diverged && double.IsFinite(result.ValidationLoss) && result.ValidationLoss > 0
                ? Math.Log(result.ValidationLoss) : finite + 2;
            optimiser.Observe(point, objective);
            table.Append(string.Create(CultureInfo.InvariantCulture,
                $"{e},{string.Join(",", values.Values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))},{result.ValidationLoss:G6},{(result.Diverged ? "true" : "false")},{objective:G6}\n"));
        }
        var best = SearchOutcome.BestByValidation(evaluations);
        if (outputDirectory is not null)
        {
            AtomicFile.WriteAllText(Path.Combine(outputDirectory, "bayesopt.csv"), table.ToString());
            File.Copy(EvaluationRecord(outputDirectory, best), Path.Combine(outputDirectory, HostProtocol.RecordFile), overwrite: true);
            for (var e = 0; e < evaluations.Count; e++) File.Delete(EvaluationRecord(outputDirectory, e));
        }
        var note = $"best of {evaluations.Count} evaluations: evaluation {best}; {evaluations.Count(r => r.Diverged)} diverged; seconds are all evaluations together" + (outputDirectory is null ? "" : "; see bayesopt.csv");
        return new SearchOutcome(evaluations[best] with { Seconds = evaluations.Sum(r => r.Seconds), Timing = RunTiming.Sum(evaluations) }, best, runs[best], evaluations, note);
    }

    static string EvaluationRecord(string folder, int evaluation) => Path.Combine(folder, $"record-evaluation-{evaluation}.jsonl");
}
