namespace TrainTune.Build.Experiments;

/// <summary>One (method, seed) run of an experiment, as its result.json tells it.</summary>
internal sealed record ExperimentRun(string Method, long Seed, IReadOnlyDictionary<string, double> Initial, IReadOnlyDictionary<string, double> Final,
    string MetricName, double? Train, double? Validation, double? Test, bool Diverged, double Seconds, string? Failure, bool HigherIsBetter = false)
{
    /// <summary>Reads the run in <paramref name="folder"/>; a run without result.json failed (<paramref name="failure"/> says how).</summary>
    public static ExperimentRun Read(string method, long seed, string folder, string? failure)
    {
        var path = Path.Combine(folder, Hosting.HostProtocol.ResultFile);
        if (!File.Exists(path))
            return new(method, seed, new Dictionary<string, double>(), new Dictionary<string, double>(), "", null, null, null, false, 0, failure ?? "no result.json");
        var result = Hosting.ResultFile.Read(path).Result;
        static Dictionary<string, double> Values(IReadOnlyDictionary<string, Hosting.HyperparameterNumbers> values) => values.ToDictionary(v => v.Key, v => v.Value.Value);
        var metric = result.Metric;
        return new(method, seed, Values(result.InitialHyperparameters), Values(result.FinalHyperparameters), metric?.Name ?? "loss",
            Finite(metric?.Train ?? result.TrainLoss), Finite(metric?.Validation ?? result.ValidationLoss), Finite(metric is null ? result.TestLoss : metric.Test),
            result.DivergedAtStep is not null, result.Seconds, null, metric?.HigherIsBetter ?? false);
    }

    static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

}
