using System.Text.Json.Nodes;

namespace TrainTune.Build.Experiments;

/// <summary>One (method, seed) run of an experiment, as its result.json tells it.</summary>
internal sealed record ExperimentRun(string Method, long Seed, IReadOnlyDictionary<string, double> Initial, IReadOnlyDictionary<string, double> Final,
    string MetricName, double? Train, double? Validation, double? Test, bool Diverged, double Seconds, string? Failure)
{
    /// <summary>Reads the run in <paramref name="folder"/>; a run without result.json failed (<paramref name="failure"/> says how).</summary>
    public static ExperimentRun Read(string method, long seed, string folder, string? failure)
    {
        var path = Path.Combine(folder, Hosting.HostProtocol.ResultFile);
        if (!File.Exists(path))
            return new(method, seed, new Dictionary<string, double>(), new Dictionary<string, double>(), "", null, null, null, false, 0, failure ?? "no result.json");
        var summary = JsonNode.Parse(File.ReadAllText(path))!;
        var result = summary["result"]!;
        static Dictionary<string, double> Values(JsonNode? node) =>
            node is JsonObject values ? values.ToDictionary(v => v.Key, v => Number(v.Value!["value"]) ?? double.NaN) : [];
        var metric = result["metric"];
        var diverged = result["diverged_at_step"] is JsonValue;
        return new(method, seed, Values(result["initial_hyperparameters"]), Values(result["final_hyperparameters"]),
            metric?["name"]?.GetValue<string>() ?? "loss",
            Finite(Number(metric?["train"] ?? result["train_loss"])), Finite(Number(metric?["validation"] ?? result["validation_loss"])),
            Finite(Number(metric?["test"] ?? result["test_loss"])), diverged, Number(result["seconds"]) ?? 0, null);
    }

    static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    static double? Number(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<double>(out var d) => d,
        JsonValue value when value.TryGetValue<string>(out var text) && double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };
}
