using System.Globalization;

namespace TrainTune.Build.Running;

/// <summary>
/// Turns the host's progress lines into at most one build-log line every few seconds (plus
/// the last): step, losses, current hyperparameters and time left.
/// </summary>
internal sealed class ProgressReporter(string target, TimeSpan interval, Func<DateTime> clock)
{
    DateTime _lastLogged = DateTime.MinValue;

    /// <summary>The line to log for <paramref name="outputLine"/>, or null to stay quiet.</summary>
    public string? Consider(string outputLine)
    {
        if (Hosting.ProgressLine.Parse(outputLine) is not { } progress) return null;
        var now = clock();
        if (progress.Step < progress.TotalSteps && now - _lastLogged < interval) return null;
        _lastLogged = now;
        return Format(target, progress);
    }

    public static string Format(string target, Hosting.ProgressLine progress)
    {
        var (step, total) = (progress.Step, progress.TotalSteps);
        var hyperparameters = string.Join(" ", progress.Hyperparameters.Select(h => $"{h.Key} {Number(h.Value)}"));
        // The training left, and the final evaluation on the full splits after it.
        var left = step > 0 ? progress.ElapsedSeconds / step * (total - step) + (progress.EvaluationSeconds ?? 0) : double.NaN;
        return string.Create(CultureInfo.InvariantCulture,
            $"{target}: step {step}/{total} ({100.0 * step / total:F0}%), train {Number(progress.TrainLoss)}, validation {Number(progress.ValidationLoss)} | {hyperparameters} | {Duration(left)} left");
    }

    static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    static string Duration(double seconds) =>
        double.IsNaN(seconds) ? "?" : seconds < 90 ? $"{seconds:F0} s" : $"{seconds / 60:F1} min";
}
