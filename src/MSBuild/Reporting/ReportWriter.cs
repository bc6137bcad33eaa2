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
            Tuned(report).Write(In(Hosting.HostProtocol.TunedFile));
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
    public static Hosting.TunedFile Tuned(RunReport report) =>
        new(report.Target, report.FinishedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture), report.Hyperparameters.ToDictionary(h => h.Key, h => h.Value.Final));
}
