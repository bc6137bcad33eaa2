using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Everything a run needs to continue exactly where it stopped: named tensors (weights,
/// buffers, rule state, raw hyperparameters, hyper-optimiser moments, batch order and
/// generator states) and the loop's counters. Written to a temporary file and renamed, so a
/// killed run leaves the previous checkpoint intact.
/// </summary>
internal sealed class Checkpoint
{
    /// <summary>The format: version 2 keys every tensor by name (version 1 keyed them by position).</summary>
    const string Magic = "TRAINTUNE-CHECKPOINT-2";
    const string MagicPrefix = "TRAINTUNE-CHECKPOINT-";

    public CheckpointProgress Progress { get; set; } = new("", 0, 0, 0, 0, new Dictionary<string, HyperparameterValue>(), []);

    public Dictionary<string, Tensor?> Tensors { get; } = new(StringComparer.Ordinal);

    public void Put(string name, Tensor? tensor) => Tensors[name] = tensor?.detach().cpu();

    public Tensor? Get(string name, Device device) =>
        Tensors.TryGetValue(name, out var tensor)
            ? tensor?.to(device)
            : throw new TrainTuneException($"The checkpoint has no '{name}': it was written by a different model, rule or method. Delete it to start afresh.");

    /// <summary>
    /// Refuses a checkpoint whose names under <paramref name="prefix"/> are not exactly
    /// <paramref name="expected"/>, saying which are missing and which this run does not have.
    /// </summary>
    public void RequireNames(string prefix, string what, IReadOnlyCollection<string> expected)
    {
        var present = Tensors.Keys.Where(k => k.StartsWith(prefix + "/", StringComparison.Ordinal)).Select(k => k[(prefix.Length + 1)..]).ToHashSet();
        var missing = expected.Where(n => !present.Contains(n)).ToList();
        var extra = present.Where(n => !expected.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0 && extra.Count == 0) return;
        throw new TrainTuneException($"The checkpoint belongs to a different model or rule: its {what} differ from this run's"
            + (missing.Count > 0 ? $"; this run has {string.Join(", ", missing)}, which the checkpoint lacks" : "")
            + (extra.Count > 0 ? $"; the checkpoint has {string.Join(", ", extra)}, which this run lacks" : "")
            + ". Delete the checkpoint to start afresh, or resume with the model and rule that wrote it.");
    }

    public void Save(string path) => Hosting.AtomicFile.Write(path, stream =>
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(JsonSerializer.Serialize(Progress, Hosting.ProtocolJson.Options));
        writer.Write(Tensors.Count);
        foreach (var (name, tensor) in Tensors)
        {
            writer.Write(name);
            writer.Write(tensor is not null);
            tensor?.Save(writer);
        }
    });

    public static Checkpoint Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            var header = reader.ReadString();
            if (header != Magic && header.StartsWith(MagicPrefix, StringComparison.Ordinal))
                throw new TrainTuneException($"The checkpoint '{path}' has format {header[MagicPrefix.Length..]}, written by another version of TrainTune; this one reads format {Magic[MagicPrefix.Length..]}. Delete it to start the run afresh.");
            if (header != Magic) throw new InvalidDataException("it does not start with the TrainTune checkpoint header");
            var checkpoint = new Checkpoint
            {
                Progress = JsonSerializer.Deserialize<CheckpointProgress>(reader.ReadString(), Hosting.ProtocolJson.Options)
                    ?? throw new InvalidDataException("its progress section is empty"),
            };
            var count = reader.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                checkpoint.Tensors[name] = reader.ReadBoolean() ? TensorExtensionMethods.Load(reader) : null;
            }
            return checkpoint;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or EndOfStreamException or System.Runtime.InteropServices.ExternalException)
        {
            throw new TrainTuneException($"The checkpoint '{path}' cannot be read ({e.Message}); delete it to start the run afresh.", e);
        }
    }
}

/// <summary>The run it belongs to, the loop's position (steps done, hyper steps skipped, record lines written) and the history so far.</summary>
internal sealed record CheckpointProgress(string Method, long Seed, int StepsDone, int SkippedHypersteps, int RecordLines,
    IReadOnlyDictionary<string, HyperparameterValue> InitialHyperparameters, List<BlockRecord> History)
{
    /// <summary>The type name of the rule whose state the checkpoint holds (null in checkpoints written before it was kept).</summary>
    public string? Rule { get; init; }
}
