using System.Globalization;
using System.Text;

namespace TrainTune.Build.Experiments;

/// <summary>Writes results.csv (one row per run) and results.md (statistics per method) of one target's experiment.</summary>
internal static class ExperimentResults
{
    public static string Csv(IReadOnlyList<ExperimentRun> runs)
    {
        var names = runs.SelectMany(r => r.Initial.Keys.Concat(r.Final.Keys)).Distinct().Order(StringComparer.Ordinal).ToList();
        var metric = runs.FirstOrDefault(r => r.MetricName.Length > 0)?.MetricName ?? "loss";
        var text = new StringBuilder();
        text.Append("method,seed,")
            .Append(string.Join(",", names.Select(n => $"initial_{n}")))
            .Append(',').Append(string.Join(",", names.Select(n => $"final_{n}")))
            .Append($",train_{Column(metric)},validation_{Column(metric)},test_{Column(metric)},diverged,seconds,failure\n");
        foreach (var run in runs.OrderBy(r => r.Method, StringComparer.Ordinal).ThenBy(r => r.Seed))
        {
            var cells = new List<string> { run.Method, run.Seed.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(names.Select(n => run.Initial.TryGetValue(n, out var v) ? F(v) : ""));
            cells.AddRange(names.Select(n => run.Final.TryGetValue(n, out var v) ? F(v) : ""));
            cells.AddRange([F(run.Train), F(run.Validation), F(run.Test), run.Diverged ? "true" : "false", F(run.Seconds), Quote(run.Failure ?? "")]);
            text.Append(string.Join(",", cells)).Append('\n');
        }
        return text.ToString();
    }

    public static string Markdown(string target, IReadOnlyList<ExperimentRun> runs, string command, TimeSpan wallTime)
    {
        var metric = runs.FirstOrDefault(r => r.MetricName.Length > 0)?.MetricName ?? "loss";
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        Line($"# {target}: final test {metric}");
        Line();
        Line($"`{command}`, {wallTime.TotalMinutes:F1} min wall time.");
        Line();
        var higherIsBetter = runs.Any(r => r.HigherIsBetter);
        Line($"Mean and median are each averaged over 1000 bootstrap resamples of the runs that did not diverge, ± the bootstrap standard deviation; best is the {(higherIsBetter ? "largest" : "smallest")}.");
        Line();
        Line($"| method | runs | diverged | failed | mean | median | best |");
        Line("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var group in runs.GroupBy(r => r.Method).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var values = group.Where(r => !r.Diverged && r.Failure is null && r.Test is not null).Select(r => r.Test!.Value).ToList();
            var mean = Statistics.BootstrapMean(values);
            var median = Statistics.BootstrapMedian(values);
            Line($"| {group.Key} | {group.Count()} | {group.Count(r => r.Diverged)} | {group.Count(r => r.Failure is not null)} | " +
                $"{F(mean.Value)} ± {F(mean.Spread)} | {F(median.Value)} ± {F(median.Spread)} | {(values.Count > 0 ? F(higherIsBetter ? values.Max() : values.Min()) : "—")} |");
        }
        return text.ToString();
    }

    static string Column(string metric) => new string(metric.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray()).Trim('_');

    static string F(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : "";

    static string Quote(string text) => text.Contains(',') || text.Contains('"') || text.Contains('\n') ? "\"" + text.Replace("\"", "\"\"").Replace("\n", " ") + "\"" : text;
}
