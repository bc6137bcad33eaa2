using System.Globalization;
using System.Text;
using System.Text.Json;
using TrainTune.Hosting;

namespace TrainTune.Build.Reporting;

/// <summary>
/// history.jsonl: one line per run of any target, appended atomically (the whole file is
/// rewritten through a temporary file, existing lines byte for byte, so an interrupted build
/// never leaves a broken history and corrupt lines are kept, only skipped when read).
/// </summary>
internal static class History
{
    /// <summary>The history line for a finished run.</summary>
    public static HistoryLine Entry(RunReport report) => new(
        report.FinishedAt.ToString("O", CultureInfo.InvariantCulture), report.Target, report.Method, report.Settings?.Seed, report.StepsCompleted,
        report.DivergedAtStep, report.TrainLoss, report.ValidationLoss, report.TestLoss, report.Metric?.Name, report.Metric?.Test, Math.Round(report.Seconds, 3),
        report.Hyperparameters.ToDictionary(h => h.Key, h => h.Value.Final));

    /// <summary>The last entry for <paramref name="target"/>; corrupt lines are reported through <paramref name="warn"/> and skipped.</summary>
    public static HistoryLine? Last(string path, string target, Action<string> warn)
    {
        if (!File.Exists(path)) return null;
        HistoryLine? last = null;
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonSerializer.Deserialize<HistoryLine>(line, ProtocolJson.Options) is { } entry && entry.Target == target) last = entry;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException)
            {
                warn($"{path} line {number} is not a valid history entry ({e.Message}); it was skipped and left in place.");
            }
        }
        return last;
    }

    public static void Append(string path, HistoryLine entry)
    {
        var existing = File.Exists(path) ? File.ReadAllText(path) : "";
        var text = new StringBuilder(existing);
        if (existing.Length > 0 && !existing.EndsWith('\n')) text.Append('\n');
        text.Append(JsonSerializer.Serialize(entry, ProtocolJson.Options)).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>A short comparison of this run with the previous run of the same target.</summary>
    public static IReadOnlyList<string> Compare(HistoryLine current, HistoryLine? previous)
    {
        static string F(double? value) => value is { } v ? v.ToString("G4", CultureInfo.InvariantCulture) : "—";
        var rows = new List<string>();
        void Row(string what, double? before, double? now) => rows.Add($"{what,-18} {(previous is null ? "(first run)" : F(before)),12} -> {F(now),-12}");
        Row("validation loss", previous?.ValidationLoss, current.ValidationLoss);
        Row("test loss", previous?.TestLoss, current.TestLoss);
        if (current.Metric is { } metric) Row($"test {metric}", previous?.TestMetric, current.TestMetric);
        foreach (var (name, value) in current.Hyperparameters)
            Row(name, previous?.Hyperparameters is { } before && before.TryGetValue(name, out var was) ? was : null, value);
        Row("seconds", previous?.Seconds, current.Seconds);
        return rows;
    }
}
