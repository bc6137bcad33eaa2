using System.Formats.Tar;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// CIFAR-10 from its binary distribution (<c>cifar-10/cifar-10-binary.tar.gz</c> under the data
/// root, downloaded with a SHA-256 check when missing) with the paper's protocol: the first
/// 45,000 training images for training, the last 5,000 for validation, the 10,000 test images for
/// test; images [N, 3, 32, 32] scaled to [0, 1] and normalised per channel with the constants the
/// authors' code names (means 0.4914, 0.4822, 0.4465; standard deviations 0.247, 0.243, 0.261);
/// labels as int64 class indices in [0, 10).
/// </summary>
public static class Cifar10
{
    public const int TrainRows = 45_000, ValidationRows = 5_000, Classes = 10;

    /// <summary>The archive's path under the data root.</summary>
    public const string Archive = "cifar-10/cifar-10-binary.tar.gz";

    /// <summary>Bytes of one record: a label byte, then 1024 red, 1024 green and 1024 blue pixels (row-major 32 × 32).</summary>
    public const int RecordBytes = 1 + 3 * 32 * 32;

    static readonly double[] Means = [0.4914, 0.4822, 0.4465], Deviations = [0.247, 0.243, 0.261];

    public static TrainingData Load(DataRoot? root = null) => Load(root, ValidationRows);

    /// <summary>As <see cref="Load(DataRoot?)"/>, with the last <paramref name="validationRows"/> training images for validation (tests use small archives).</summary>
    internal static TrainingData Load(DataRoot? root, int validationRows)
    {
        root ??= new DataRoot();
        var archive = root.Locate(Archive);
        // Cached: the records' bytes (180 MB), parsed from the archive once.
        var raw = ParsedDataCache.GetOrParse("cifar-10", "binary-1", [archive], () =>
        {
            var (train, test) = Read(archive);
            return new() { ["train"] = train, ["test"] = test };
        });
        var trainRecords = raw["train"].shape[0];
        if (trainRecords <= validationRows)
            throw new TrainTuneException($"The CIFAR-10 archive '{archive}' has {trainRecords} training images; the protocol needs more than the {validationRows} it holds out for validation.");
        var mean = torch.tensor(Means, dtype: ScalarType.Float32).reshape(1, 3, 1, 1);
        var deviation = torch.tensor(Deviations, dtype: ScalarType.Float32).reshape(1, 3, 1, 1);
        Split Part(Tensor records, long start, long count)
        {
            var rows = records.narrow(0, start, count);
            var images = rows.narrow(1, 1, RecordBytes - 1).to(ScalarType.Float32).reshape(count, 3, 32, 32) / 255;
            return new Split((images - mean) / deviation, rows.select(1, 0).to(ScalarType.Int64));
        }
        var trainRows = trainRecords - validationRows;
        return new TrainingData(Part(raw["train"], 0, trainRows), Part(raw["train"], trainRows, validationRows), Part(raw["test"], 0, raw["test"].shape[0]));
    }

    /// <summary>The training records (data_batch_1 … 5, in order) and the test records, [N, 3073] bytes each; a wrong file is a clear error.</summary>
    static (Tensor Train, Tensor Test) Read(string archive)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var stream = File.OpenRead(archive);
            using var gzip = new GZipStream(stream, CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null) continue;
                using var content = new MemoryStream();
                entry.DataStream.CopyTo(content);
                files[Path.GetFileName(entry.Name)] = content.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new TrainTuneException($"'{archive}' is not the CIFAR-10 binary archive (a .tar.gz of cifar-10-batches-bin/*.bin): {e.Message} Delete it to download it again.", e);
        }
        Tensor Records(string name)
        {
            if (!files.TryGetValue(name, out var bytes))
                throw new TrainTuneException($"The CIFAR-10 archive '{archive}' has no {name}; it holds {(files.Count == 0 ? "no files" : string.Join(", ", files.Keys.Order(StringComparer.Ordinal)))}. Delete it to download it again.");
            if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
                throw new TrainTuneException($"{name} in '{archive}' has {bytes.Length} bytes, not a whole number of {RecordBytes}-byte CIFAR-10 records: the file is truncated or of another format. Delete the archive to download it again.");
            var records = bytes.Length / RecordBytes;
            for (var r = 0; r < records; r++)
                if (bytes[r * RecordBytes] >= Classes)
                    throw new TrainTuneException($"Record {r} of {name} in '{archive}' has label {bytes[r * RecordBytes]}, outside [0, {Classes}): the file is not CIFAR-10 (CIFAR-100's binary records have two label bytes).");
            return torch.tensor(bytes, [records, RecordBytes], ScalarType.Byte);
        }
        var train = torch.cat(Enumerable.Range(1, 5).Select(b => Records($"data_batch_{b}.bin")).ToArray());
        return (train, Records("test_batch.bin"));
    }
}
