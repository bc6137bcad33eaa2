using System.Globalization;
using System.Text;

namespace TrainTune.Hosting;

/// <summary>
/// The paper's Bayesian-optimisation baseline: whole training runs with fixed hyperparameters
/// on the training data, 5 at random and 25 chosen by expected improvement under a Gaussian
/// process, over the paper's ranges (log10 η ∈ [−6, −1], log10 ξ ∈ [−7, −2], μ ∈ (0, 1)).
/// The objective is log of the final validation loss; a diverged run gets a penalty above
/// every loss seen and is counted. The best run by validation loss is the result.
/// </summary>
public static class BayesOptSearch
{
    public sealed record Outcome(RunResult Best, int BestIndex, IReadOnlyList<RunResult> Evaluations, int Diverged);

    static readonly (string Name, Func<double, double> Decode)[] Space =
    [
        ("learningRate", u => Math.Pow(10, -6 + 5 * u)),
        ("weightDecay", u => Math.Pow(10, -7 + 5 * u)),
        ("momentum", u => Math.Clamp(u, 1e-4, 1 - 1e-4)),
    ];

    public static Outcome Run(TuningRun run, string outputDirectory, int randomEvaluations = 5, int guidedEvaluations = 25)
    {
        var dimensions = Space.Where(d => run.Rule.Hyperparameters.Any(h => h.Name == d.Name)).ToArray();
        if (dimensions.Length == 0)
            throw new TrainTuneException($"BayesOpt searches learningRate, weightDecay and momentum, and the rule {run.Rule.GetType().Name} has none of them (it has {string.Join(", ", run.Rule.Hyperparameters.Select(h => h.Name))}).");
        var optimiser = new BayesianOptimisation(dimensions.Length, unchecked((int)run.Seed), randomEvaluations);
        var evaluations = new List<RunResult>();
        var table = new StringBuilder("evaluation," + string.Join(",", dimensions.Select(d => d.Name)) + ",validation_loss,diverged,objective\n");
        for (var e = 0; e < randomEvaluations + guidedEvaluations; e++)
        {
            var point = optimiser.Next();
            var values = dimensions.Select((d, i) => (d.Name, Value: d.Decode(point[i]))).ToDictionary(v => v.Name, v => v.Value);
            var result = run.Tune(Method.Fixed()).StartingFrom(values).WithSeed(run.Seed + e)
                .RecordTo(Path.Combine(outputDirectory, $"record-evaluation-{e}.jsonl")).Run();
            evaluations.Add(result);
            var finite = optimiser.Observations.Select(o => o.Y).Where(double.IsFinite).DefaultIfEmpty(0).Max();
            var objective = !result.Diverged && double.IsFinite(result.ValidationLoss) && result.ValidationLoss > 0
                ? Math.Log(result.ValidationLoss) : finite + 2;
            optimiser.Observe(point, objective);
            table.Append(string.Create(CultureInfo.InvariantCulture,
                $"{e},{string.Join(",", values.Values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))},{result.ValidationLoss:G6},{(result.Diverged ? "true" : "false")},{objective:G6}\n"));
        }
        AtomicFile.WriteAllText(Path.Combine(outputDirectory, "bayesopt.csv"), table.ToString());
        var best = MethodNames.BestByValidation(evaluations);
        File.Copy(Path.Combine(outputDirectory, $"record-evaluation-{best}.jsonl"), Path.Combine(outputDirectory, HostProtocol.RecordFile), overwrite: true);
        for (var e = 0; e < evaluations.Count; e++) File.Delete(Path.Combine(outputDirectory, $"record-evaluation-{e}.jsonl"));
        return new Outcome(evaluations[best] with { Seconds = evaluations.Sum(r => r.Seconds) }, best, evaluations, evaluations.Count(r => r.Diverged));
    }
}
