using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainTune.Build.Reporting;

/// <summary>One hyperparameter at the start and end of a run; per weight tensor where it is per weight.</summary>
internal sealed record HyperparameterReport(double Initial, double Final, IReadOnlyDictionary<string, TensorRange>? FinalPerTensor)
{
    /// <summary>With parameter groups whose values differ: each group's final value.</summary>
    public IReadOnlyDictionary<string, double>? FinalPerGroup { get; init; }
}

/// <summary>Mean, minimum and maximum of a per-weight hyperparameter over one weight tensor.</summary>
internal sealed record TensorRange(double Mean, double Min, double Max);

/// <summary>One block line of the record.</summary>
internal sealed record BlockPoint(int Step, double TrainLoss, double ValidationLoss, double? HypergradientNorm, IReadOnlyDictionary<string, BlockValue> Hyperparameters);

/// <summary>A hyperparameter's value at a block; the range over all weights where it is per weight.</summary>
/// <summary>A hyperparameter at a block: its value (a per-weight one's mean and range; a grouped one's mean and each group's value).</summary>
internal sealed record BlockValue(double Value, double? Min, double? Max, IReadOnlyDictionary<string, double>? PerGroup = null);

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
    /// <summary>The configuration as the host wrote it (typed; <see cref="Configuration"/> is the same for display and report.json).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Hosting.RunConfiguration? Settings { get; init; }

    /// <summary>For a BestOf run (several starts): the blocks of every start but the counted one (drawn faintly behind it).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<IReadOnlyList<BlockPoint>> OtherStarts { get; init; } = [];

    public const string SchemaName = "traintune-report/1";

    /// <summary>Reads the host's files in <paramref name="targetDirectory"/>.</summary>
    public static RunReport Read(string targetDirectory)
    {
        var resultPath = Path.Combine(targetDirectory, Hosting.HostProtocol.ResultFile);
        if (!File.Exists(resultPath)) throw new FileNotFoundException($"The run wrote no {Hosting.HostProtocol.ResultFile} in {targetDirectory}.");
        var summary = Hosting.ResultFile.Read(resultPath);
        var result = summary.Result;
        var blocks = ReadBlocks(Path.Combine(targetDirectory, Hosting.HostProtocol.RecordFile));

        var hyperparameters = new Dictionary<string, HyperparameterReport>();
        foreach (var (name, value) in result.FinalHyperparameters)
            hyperparameters[name] = new HyperparameterReport(result.InitialHyperparameters.TryGetValue(name, out var initial) ? initial.Value : double.NaN, value.Value,
                value.PerTensor?.ToDictionary(t => t.Key, t => new TensorRange(t.Value.Value, t.Value.Min, t.Value.Max)))
            { FinalPerGroup = value.PerGroup };

        var norms = blocks.Where(b => b.HypergradientNorm is { } n && double.IsFinite(n)).Select(b => b.HypergradientNorm!.Value).ToList();
        var normSummary = norms.Count == 0 ? null
            : new NormSummary(norms[0], norms[^1], norms.Order().ElementAt(norms.Count / 2), norms.Max());
        var diverged = result.DivergedAtStep;
        var settings = summary.Configuration;
        return new RunReport(SchemaName, summary.Target, settings.MethodName,
            JsonSerializer.SerializeToNode(settings, Hosting.ProtocolJson.Options)!.AsObject(), summary.FinishedAt, result.Seconds,
            summary.Timing is null ? null : new JsonObject(summary.Timing.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)(t.Value is { } v ? JsonValue.Create(v) : null)))),
            result.StepsCompleted, diverged, diverged is { } s ? $"diverged at step {s}" : null, result.SkippedHypersteps,
            Finite(result.TrainLoss), Finite(result.ValidationLoss), Finite(result.TestLoss),
            result.Metric is { Name: not "loss" } metric ? new MetricReport(metric.Name, Finite(metric.Train), Finite(metric.Validation), Finite(metric.Test)) : null,
            hyperparameters, normSummary, blocks)
        {
            Settings = settings,
            OtherStarts = settings.BestStart is { } best && settings.Starts is { } starts
                ? Enumerable.Range(0, starts).Where(k => k != best)
                    .Select(k => (IReadOnlyList<BlockPoint>)ReadBlocks(Path.Combine(targetDirectory, Hosting.HostProtocol.StartRecordFile(k)))).ToList()
                : [],
        };
    }

    static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    static List<BlockPoint> ReadBlocks(string recordPath) =>
        Hosting.RecordFile.ReadBlocks(recordPath).Select(b => new BlockPoint(b.Step, b.TrainLoss, b.ValidationLoss, b.HypergradientNorm,
            b.Hyperparameters.ToDictionary(h => h.Key, h => new BlockValue(h.Value.Value,
                h.Value.PerTensor is null ? null : h.Value.Min, h.Value.PerTensor is null ? null : h.Value.Max, h.Value.PerGroup)))).ToList();

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
