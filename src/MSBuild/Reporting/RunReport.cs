using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainTune.Build.Reporting;

/// <summary>One hyperparameter at the start and end of a run; per weight tensor where it is per weight.</summary>
internal sealed record HyperparameterReport(double Initial, double Final, IReadOnlyDictionary<string, TensorRange>? FinalPerTensor);

/// <summary>Mean, minimum and maximum of a per-weight hyperparameter over one weight tensor.</summary>
internal sealed record TensorRange(double Mean, double Min, double Max);

/// <summary>One block line of the record.</summary>
internal sealed record BlockPoint(int Step, double TrainLoss, double ValidationLoss, double? HypergradientNorm, IReadOnlyDictionary<string, BlockValue> Hyperparameters);

/// <summary>A hyperparameter's value at a block; the range over all weights where it is per weight.</summary>
internal sealed record BlockValue(double Value, double? Min, double? Max);

/// <summary>The final losses in the run's own metric (e.g. MSE in original units).</summary>
internal sealed record MetricReport(string Name, double? Train, double? Validation, double? Test);

/// <summary>Statistics of the hypergradient norms over the run.</summary>
internal sealed record NormSummary(double First, double Last, double Median, double Max);

/// <summary>
/// Everything the report says about one run, read from the host's result.json and record.jsonl.
/// Serialised as report.json (schema "traintune-report/1", documented in the README).
/// </summary>
internal sealed record RunReport(
    string Schema,
    string Target,
    string Method,
    JsonObject Configuration,
    DateTimeOffset FinishedAt,
    double Seconds,
    JsonObject? Timing,
    int StepsCompleted,
    int? DivergedAtStep,
    string? Divergence,
    int SkippedHypersteps,
    double? TrainLoss,
    double? ValidationLoss,
    double? TestLoss,
    MetricReport? Metric,
    IReadOnlyDictionary<string, HyperparameterReport> Hyperparameters,
    NormSummary? HypergradientNorm,
    [property: System.Text.Json.Serialization.JsonIgnore] IReadOnlyList<BlockPoint> Blocks)
{
    public const string SchemaName = "traintune-report/1";

    /// <summary>Reads the host's files in <paramref name="targetDirectory"/>.</summary>
    public static RunReport Read(string targetDirectory)
    {
        var resultPath = Path.Combine(targetDirectory, Hosting.HostProtocol.ResultFile);
        if (!File.Exists(resultPath)) throw new FileNotFoundException($"The run wrote no {Hosting.HostProtocol.ResultFile} in {targetDirectory}.");
        var summary = JsonNode.Parse(File.ReadAllText(resultPath))!.AsObject();
        var result = summary["result"]!.AsObject();
        var blocks = ReadBlocks(Path.Combine(targetDirectory, Hosting.HostProtocol.RecordFile));

        var initial = result["initial_hyperparameters"]!.AsObject();
        var final = result["final_hyperparameters"]!.AsObject();
        var hyperparameters = new Dictionary<string, HyperparameterReport>();
        foreach (var (name, value) in final)
        {
            IReadOnlyDictionary<string, TensorRange>? perTensor = null;
            if (value!["per_tensor"] is JsonObject tensors)
                perTensor = tensors.ToDictionary(t => t.Key, t => new TensorRange(Number(t.Value!["mean"])!.Value, Number(t.Value!["min"])!.Value, Number(t.Value!["max"])!.Value));
            hyperparameters[name] = new HyperparameterReport(Number(initial[name]?["value"]) ?? double.NaN, Number(value["value"]) ?? double.NaN, perTensor);
        }

        var norms = blocks.Where(b => b.HypergradientNorm is { } n && double.IsFinite(n)).Select(b => b.HypergradientNorm!.Value).ToList();
        NormSummary? normSummary = norms.Count == 0 ? null
            : new NormSummary(norms[0], norms[^1], norms.Order().ElementAt(norms.Count / 2), norms.Max());
        var diverged = (int?)Number(result["diverged_at_step"]);
        return new RunReport(SchemaName, summary["target"]!.GetValue<string>(), summary["configuration"]?["method_name"]?.GetValue<string>() ?? "",
            summary["configuration"]!.DeepClone().AsObject(), summary["finished_at"]!.GetValue<DateTimeOffset>(),
            Number(result["seconds"]) ?? 0, summary["timing"]?.DeepClone().AsObject(), (int)(Number(result["steps_completed"]) ?? 0), diverged,
            diverged is { } s ? $"diverged at step {s}" : null, (int)(Number(result["skipped_hypersteps"]) ?? 0),
            Finite(Number(result["train_loss"])), Finite(Number(result["validation_loss"])), Finite(Number(result["test_loss"])),
            result["metric"] is JsonObject metric && metric["name"]?.GetValue<string>() is { } metricName && metricName != "loss"
                ? new MetricReport(metricName, Finite(Number(metric["train"])), Finite(Number(metric["validation"])), Finite(Number(metric["test"])))
                : null,
            hyperparameters, normSummary, blocks);
    }

    static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>A JSON number, or one of the named floating-point literals the runtime writes ("NaN", "Infinity").</summary>
    static double? Number(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<double>(out var d) => d,
        JsonValue value when value.TryGetValue<string>(out var text) && double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    static List<BlockPoint> ReadBlocks(string recordPath)
    {
        var blocks = new List<BlockPoint>();
        if (!File.Exists(recordPath)) return blocks;
        foreach (var line in File.ReadLines(recordPath))
        {
            JsonNode? node;
            try { node = JsonNode.Parse(line); } catch (JsonException) { continue; }
            if (node?["event"]?.GetValue<string>() != "block") continue;
            var values = node["hyperparameters"]!.AsObject().ToDictionary(h => h.Key, h =>
            {
                var perTensor = h.Value!["per_tensor"] as JsonObject;
                return new BlockValue(Number(h.Value!["value"]) ?? double.NaN,
                    perTensor?.Min(t => Number(t.Value!["min"]) ?? double.NaN), perTensor?.Max(t => Number(t.Value!["max"]) ?? double.NaN));
            });
            blocks.Add(new BlockPoint((int)(Number(node["step"]) ?? 0), Number(node["train_loss"]) ?? double.NaN,
                Number(node["validation_loss"]) ?? double.NaN, Number(node["hypergradient_norm"]), values));
        }
        return blocks;
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>report.json: everything but the per-block series (those are in record.jsonl).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json).Replace("\r\n", "\n") + "\n";
}
