using System.Globalization;
using System.Text;

namespace TrainTune.Build.Reporting;

/// <summary>Renders report.md.</summary>
internal static class MarkdownReport
{
    public static string Render(RunReport report)
    {
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        Line($"# TrainTune report: {report.Target}");
        Line();
        Line($"Finished {report.FinishedAt:yyyy-MM-dd HH:mm:ss} UTC after {F(report.Seconds, "F1")} s and {report.StepsCompleted} weight steps.");
        if (report.Divergence is { } divergence) Line($"**The run {divergence}**; losses after divergence are not reported.");
        if (report.SkippedHypersteps > 0) Line($"{report.SkippedHypersteps} hyper steps were skipped because their hypergradient was not finite.");
        Line();
        Line("## Configuration");
        Line();
        Line("| setting | value |");
        Line("| --- | --- |");
        foreach (var (name, value) in report.Configuration)
            if (name == "threads" && report.Settings?.Threads is { } threads)
                Line($"| threads | {threads.IntraOp} intra-op, {threads.InterOp} inter-op ({threads.Reason}) |");
            else if (value is not null) Line($"| {name} | {value.ToJsonString().Trim('"')} |");
        Line();
        Line("## Losses (full splits, at the end)");
        Line();
        Line("| train | validation | test |");
        Line("| --- | --- | --- |");
        Line($"| {F(report.TrainLoss)} | {F(report.ValidationLoss)} | {F(report.TestLoss)} |");
        if (report.Metric is { } metric)
        {
            Line();
            Line($"In the task's metric ({metric.Name}): train {F(metric.Train)}, validation {F(metric.Validation)}, test {F(metric.Test)}.");
        }
        Line();
        Line("## Hyperparameters");
        Line();
        Line("| hyperparameter | initial | final |");
        Line("| --- | --- | --- |");
        foreach (var (name, h) in report.Hyperparameters)
            Line($"| {name} | {F(h.Initial)} | {F(h.Final)}{(h.FinalPerTensor is null && h.FinalPerGroup is null ? "" : " (mean over all weights)")} |");
        foreach (var (name, h) in report.Hyperparameters.Where(h => h.Value.FinalPerGroup is not null))
        {
            Line();
            Line($"Final {name} per parameter group:");
            Line();
            Line("| group | value |");
            Line("| --- | --- |");
            foreach (var (group, value) in h.FinalPerGroup!) Line($"| {group} | {F(value)} |");
        }
        foreach (var (name, h) in report.Hyperparameters.Where(h => h.Value.FinalPerTensor is not null))
        {
            Line();
            Line($"Final {name} per weight tensor:");
            Line();
            Line("| weight tensor | mean | min | max |");
            Line("| --- | --- | --- | --- |");
            foreach (var (tensor, range) in h.FinalPerTensor!) Line($"| {tensor} | {F(range.Mean)} | {F(range.Min)} | {F(range.Max)} |");
        }
        Line();
        Line("## Hypergradient norm");
        Line();
        Line(report.HypergradientNorm is { } n
            ? $"first {F(n.First)}, last {F(n.Last)}, median {F(n.Median)}, largest {F(n.Max)} over {report.Blocks.Count(b => b.HypergradientNorm is not null)} hyper steps."
            : "No hypergradients: this method does not tune.");
        Line();
        if (report.Timing is { Count: > 0 } timing)
        {
            Line("## Time");
            Line();
            Line("| phase | seconds |");
            Line("| --- | --- |");
            foreach (var (phase, seconds) in timing)
                if (seconds is not null) Line($"| {phase.Replace('_', ' ')} | {F(seconds.GetValue<double>(), "F3")} |");
            Line();
        }
        Line("## Plots");
        Line();
        Line($"![losses]({Hosting.HostProtocol.LossPlotFile})");
        Line();
        Line($"![hyperparameters]({Hosting.HostProtocol.HyperparameterPlotFile})");
        return text.ToString();
    }

    static string F(double? value, string format = "G4") =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "—";
}
