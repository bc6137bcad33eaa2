using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainTune.Build.Reporting;

/// <summary>
/// history.jsonl: one line per run of any target, appended atomically (the whole file is
/// rewritten through a temporary file, existing lines byte for byte, so an interrupted build
/// never leaves a broken history and corrupt lines are kept, only skipped when read).
/// </summary>
internal static class History
{
    /// <summary>The history line for a finished run.</summary>
    public static JsonObject Entry(RunReport report) => new()
    {
        ["time"] = report.FinishedAt.ToString("O", CultureInfo.InvariantCulture),
        ["target"] = report.Target,
        ["method"] = report.Method,
        ["seed"] = report.Configuration["seed"]?.DeepClone(),
        ["steps"] = report.StepsCompleted,
        ["diverged_at_step"] = report.DivergedAtStep,
        ["train_loss"] = report.TrainLoss,
        ["validation_loss"] = report.ValidationLoss,
        ["test_loss"] = report.TestLoss,
        ["metric"] = report.Metric?.Name,
        ["test_metric"] = report.Metric?.Test,
        ["seconds"] = Math.Round(report.Seconds, 3),
        ["hyperparameters"] = new JsonObject(report.Hyperparameters.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)JsonValue.Create(h.Value.Final)))),
    };

    /// <summary>The last entry for <paramref name="target"/>; corrupt lines are reported through <paramref name="warn"/> and skipped.</summary>
    public static JsonObject? Last(string path, string target, Action<string> warn)
    {
        if (!File.Exists(path)) return null;
        JsonObject? last = null;
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonNode.Parse(line) is JsonObject entry && entry["target"]?.GetValue<string>() == target) last = entry;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                warn($"{path} line {number} is not a valid history entry ({e.Message}); it was skipped and left in place.");
            }
        }
        return last;
    }

    public static void Append(string path, JsonObject entry)
    {
        var existing = File.Exists(path) ? File.ReadAllText(path) : "";
        var text = new StringBuilder(existing);
        if (existing.Length > 0 && !existing.EndsWith('\n')) text.Append('\n');
        text.Append(entry.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })).Append('\n');
        Hosting.AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>A short comparison of this run with the previous run of the same target.</summary>
    public static IReadOnlyList<string> Compare(JsonObject current, JsonObject? previous)
    {
        string F(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d.ToString("G4", CultureInfo.InvariantCulture) : "—";
        var rows = new List<string>();
        void Row(string what, JsonNode? before, JsonNode? now) => rows.Add($"{what,-18} {(previous is null ? "(first run)" : F(before)),12} -> {F(now),-12}");
        Row("validation loss", previous?["validation_loss"], current["validation_loss"]);
        Row("test loss", previous?["test_loss"], current["test_loss"]);
        if (current["metric"] is JsonValue metric) Row($"test {metric}", previous?["test_metric"], current["test_metric"]);
        foreach (var (name, value) in current["hyperparameters"]!.AsObject())
            Row(name, previous?["hyperparameters"]?[name], value);
        Row("seconds", previous?["seconds"], current["seconds"]);
        return rows;
    }
}
