using System.Globalization;

namespace TrainTune.Build.Running;

/// <summary>
/// Turns the host's progress lines into at most one build-log line every few seconds (plus
/// the last, and the first that reports a skipped hyper step): step, losses, current
/// hyperparameters, hyper steps skipped and time left.
/// </summary>
internal sealed class ProgressReporter(string target, TimeSpan interval, Func<DateTime> clock)
{
    DateTime _lastLogged = DateTime.MinValue;
    int _skippedLogged;

    /// <summary>The line to log for <paramref name="outputLine"/>, or null to stay quiet.</summary>
    public string? Consider(string outputLine)
    {
        if (Hosting.ProgressLine.Parse(outputLine) is not { } progress) return null;
        var now = clock();
        var firstSkip = _skippedLogged == 0 && progress.SkippedHypersteps > 0;
        if (progress.Step < progress.TotalSteps && !firstSkip && now - _lastLogged < interval) return null;
        _lastLogged = now;
        _skippedLogged = progress.SkippedHypersteps;
        return Format(target, progress);
    }

    public static string Format(string target, Hosting.ProgressLine progress)
    {
        var (step, total) = (progress.Step, progress.TotalSteps);
        var hyperparameters = string.Join(" ", progress.Hyperparameters.Select(h => $"{h.Key} {Number(h.Value)}"));
        // The training left, and the final evaluation on the full splits after it.
        var left = step > 0 ? progress.ElapsedSeconds / step * (total - step) + (progress.EvaluationSeconds ?? 0) : double.NaN;
        var skipped = progress.SkippedHypersteps == 0 ? ""
            : $" | {progress.SkippedHypersteps} hyper step{(progress.SkippedHypersteps == 1 ? "" : "s")} skipped"
              + (progress.NotFinite is { Count: > 0 } names ? $" (hypergradient of {string.Join(", ", names)} not finite)" : " (hypergradient not finite)");
        return string.Create(CultureInfo.InvariantCulture,
            $"{target}: step {step}/{total} ({100.0 * step / total:F0}%), train {Number(progress.TrainLoss)}, validation {Number(progress.ValidationLoss)} | {hyperparameters}{skipped} | {Duration(left)} left");
    }

    static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    static string Duration(double seconds) =>
        double.IsNaN(seconds) ? "?" : seconds < 90 ? $"{seconds:F0} s" : $"{seconds / 60:F1} min";
}
