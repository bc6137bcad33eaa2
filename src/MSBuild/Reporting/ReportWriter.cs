using System.Text.Json.Nodes;

namespace TrainTune.Build.Reporting;

/// <summary>Writes every report file of one finished run, each atomically, and appends the history.</summary>
internal static class ReportWriter
{
    /// <summary>Writes the report of the run in <paramref name="targetDirectory"/>; returns the comparison with the previous run.</summary>
    public static IReadOnlyList<string> Write(string targetDirectory, string historyPath, Action<string> warn)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var report = RunReport.Read(targetDirectory);
        string In(string file) => Path.Combine(targetDirectory, file);
        Hosting.AtomicFile.WriteAllText(In(Hosting.HostProtocol.ReportMarkdownFile), MarkdownReport.Render(report));
        Hosting.AtomicFile.WriteAllText(In(Hosting.HostProtocol.LossPlotFile), Plots.Losses(report));
        Hosting.AtomicFile.WriteAllText(In(Hosting.HostProtocol.HyperparameterPlotFile), Plots.Hyperparameters(report));
        if (report.DivergedAtStep is null)
            Hosting.AtomicFile.WriteAllText(In(Hosting.HostProtocol.TunedFile), Tuned(report).ToJsonString(RunReport.Json) + "\n");
        else
            warn($"{report.Target} {report.Divergence}; its tuned.json was left as it was.");

        var entry = History.Entry(report);
        var previous = History.Last(historyPath, report.Target, warn);
        History.Append(historyPath, entry);
        // report.json comes last, so that its timing covers the writing of everything else.
        var timing = report.Timing ?? [];
        timing["report_writing"] = Math.Round(stopwatch.Elapsed.TotalSeconds, 4);
        Hosting.AtomicFile.WriteAllText(In(Hosting.HostProtocol.ReportJsonFile), (report with { Timing = timing }).ToJson());
        return History.Compare(entry, previous);
    }

    /// <summary>tuned.json: the final values by name (a per-weight hyperparameter by its mean), for a warm start.</summary>
    public static JsonObject Tuned(RunReport report) => new()
    {
        [Hosting.TunedFile.Target] = report.Target,
        [Hosting.TunedFile.FinishedAt] = report.FinishedAt.ToString("O"),
        [Hosting.TunedFile.Hyperparameters] = new JsonObject(report.Hyperparameters.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)JsonValue.Create(h.Value.Final)))),
    };
}
