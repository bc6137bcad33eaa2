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
    const string Magic = "TRAINTUNE-CHECKPOINT-1";

    public CheckpointProgress Progress { get; set; } = new("", 0, 0, 0, 0, new Dictionary<string, HyperparameterValue>(), []);

    public Dictionary<string, Tensor?> Tensors { get; } = new(StringComparer.Ordinal);

    public void Put(string name, Tensor? tensor) => Tensors[name] = tensor?.detach().cpu();

    public Tensor? Get(string name, Device device) =>
        Tensors.TryGetValue(name, out var tensor)
            ? tensor?.to(device)
            : throw new TrainTuneException($"The checkpoint has no '{name}': it was written by a different model, rule or method. Delete it to start afresh.");

    public void Save(string path)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(Magic);
            writer.Write(JsonSerializer.Serialize(Progress, RunRecorder.Json));
            writer.Write(Tensors.Count);
            foreach (var (name, tensor) in Tensors)
            {
                writer.Write(name);
                writer.Write(tensor is not null);
                tensor?.Save(writer);
            }
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public static Checkpoint Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadString() != Magic) throw new InvalidDataException("it does not start with the TrainTune checkpoint header");
            var checkpoint = new Checkpoint
            {
                Progress = JsonSerializer.Deserialize<CheckpointProgress>(reader.ReadString(), RunRecorder.Json)
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
    IReadOnlyDictionary<string, HyperparameterValue> InitialHyperparameters, List<BlockRecord> History);
