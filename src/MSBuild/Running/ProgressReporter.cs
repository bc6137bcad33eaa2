using System.Globalization;
using System.Text.Json;

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
        if (!outputLine.StartsWith(Hosting.HostProtocol.ProgressPrefix, StringComparison.Ordinal)) return null;
        JsonElement progress;
        try
        {
            progress = JsonDocument.Parse(outputLine.Substring(Hosting.HostProtocol.ProgressPrefix.Length)).RootElement;
        }
        catch (JsonException)
        {
            return null;
        }
        var step = progress.GetProperty("step").GetInt32();
        var total = progress.GetProperty("total_steps").GetInt32();
        var now = clock();
        if (step < total && now - _lastLogged < interval) return null;
        _lastLogged = now;
        return Format(target, progress);
    }

    public static string Format(string target, JsonElement progress)
    {
        var step = progress.GetProperty("step").GetInt32();
        var total = progress.GetProperty("total_steps").GetInt32();
        var elapsed = progress.GetProperty("elapsed_seconds").GetDouble();
        var hyperparameters = string.Join(" ", progress.GetProperty("hyperparameters").EnumerateObject()
            .Select(h => $"{h.Name} {Number(h.Value)}"));
        var left = step > 0 ? elapsed / step * (total - step) : double.NaN;
        return string.Create(CultureInfo.InvariantCulture,
            $"{target}: step {step}/{total} ({100.0 * step / total:F0}%), train {Number(progress.GetProperty("train_loss"))}, validation {Number(progress.GetProperty("validation_loss"))} | {hyperparameters} | {Duration(left)} left");
    }

    static string Number(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("G4", CultureInfo.InvariantCulture) : value.ToString();

    static string Duration(double seconds) =>
        double.IsNaN(seconds) ? "?" : seconds < 90 ? $"{seconds:F0} s" : $"{seconds / 60:F1} min";
}
