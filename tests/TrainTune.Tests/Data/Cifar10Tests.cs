using System.Formats.Tar;
using System.IO.Compression;

namespace TrainTune.Tests.Data;

/// <summary>The CIFAR-10 loader on small archives in the binary distribution's format, written here.</summary>
public class Cifar10Tests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-cifar-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Record <paramref name="index"/>: label index % 10, pixel p of channel c = (7·index + 3·c + p) mod 256.</summary>
    static byte[] Records(int first, int count, Func<int, byte>? label = null)
    {
        var bytes = new byte[count * Cifar10.RecordBytes];
        for (var r = 0; r < count; r++)
        {
            var index = first + r;
            bytes[r * Cifar10.RecordBytes] = label?.Invoke(index) ?? (byte)(index % 10);
            for (var c = 0; c < 3; c++)
                for (var p = 0; p < 1024; p++)
                    bytes[r * Cifar10.RecordBytes + 1 + c * 1024 + p] = (byte)((7 * index + 3 * c + p) % 256);
        }
        return bytes;
    }

    /// <summary>A data root whose archive holds <paramref name="files"/> under cifar-10-batches-bin/.</summary>
    DataRoot Archive(string name, IReadOnlyDictionary<string, byte[]> files)
    {
        var folder = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.Combine(folder, "cifar-10"));
        using (var file = File.Create(Path.Combine(folder, Cifar10.Archive)))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "cifar-10-batches-bin/"));
            foreach (var (entry, bytes) in files)
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/" + entry) { DataStream = new MemoryStream(bytes) });
        }
        return new DataRoot(folder) { UseEnvironment = false, DownloadFolder = Path.Combine(_folder, "downloads") };
    }

    static Dictionary<string, byte[]> Small() => new()
    {
        ["data_batch_1.bin"] = Records(0, 3),
        ["data_batch_2.bin"] = Records(3, 3),
        ["data_batch_3.bin"] = Records(6, 3),
        ["data_batch_4.bin"] = Records(9, 3),
        ["data_batch_5.bin"] = Records(12, 3),
        ["test_batch.bin"] = Records(100, 4),
        ["batches.meta.txt"] = "airplane\n"u8.ToArray(),
    };

    [Fact]
    public void The_batches_load_in_order_split_and_normalised_per_channel()
    {
        var data = Cifar10.Load(Archive("small", Small()), validationRows: 5);
        Assert.Equal([10L, 3L, 32L, 32L], data.Train.Inputs.shape);
        Assert.Equal([5L, 3L, 32L, 32L], data.Validation.Inputs.shape);
        Assert.Equal([4L, 3L, 32L, 32L], data.Test!.Inputs.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, data.Train.Targets.dtype);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)(i % 10)), data.Train.Targets.data<long>().ToArray());
        Assert.Equal(Enumerable.Range(10, 5).Select(i => (long)(i % 10)), data.Validation.Targets.data<long>().ToArray());
        Assert.Equal(Enumerable.Range(100, 4).Select(i => (long)(i % 10)), data.Test.Targets.data<long>().ToArray());
        // Record 11 (the validation split's second), blue channel, row 2, column 5: pixel 69.
        double[] means = [0.4914, 0.4822, 0.4465], deviations = [0.247, 0.243, 0.261];
        var expected = ((7 * 11 + 3 * 2 + 69) % 256 / 255.0 - means[2]) / deviations[2];
        Assert.Equal(expected, data.Validation.Inputs[1, 2, 2, 5].item<float>(), 5);
        var first = (7 * 100 + 0) % 256 / 255.0;
        Assert.Equal((first - means[0]) / deviations[0], data.Test.Inputs[0, 0, 0, 0].item<float>(), 5);
    }

    [Fact]
    public void A_file_of_the_wrong_size_a_label_outside_the_classes_and_a_missing_batch_say_what_is_wrong()
    {
        var truncated = Small();
        truncated["data_batch_3.bin"] = truncated["data_batch_3.bin"][..(2 * Cifar10.RecordBytes + 5)];
        var size = Assert.Throws<TrainTuneException>(() => Cifar10.Load(Archive("truncated", truncated), validationRows: 5));
        Assert.Contains($"data_batch_3.bin in '", size.Message);
        Assert.Contains($"has {2 * Cifar10.RecordBytes + 5} bytes, not a whole number of 3073-byte CIFAR-10 records", size.Message);

        var labels = Small();
        labels["test_batch.bin"] = Records(100, 4, i => i == 102 ? (byte)10 : (byte)1);
        var label = Assert.Throws<TrainTuneException>(() => Cifar10.Load(Archive("labels", labels), validationRows: 5));
        Assert.Contains("Record 2 of test_batch.bin", label.Message);
        Assert.Contains("has label 10, outside [0, 10)", label.Message);

        var missing = Small();
        missing.Remove("test_batch.bin");
        Assert.Contains("has no test_batch.bin; it holds batches.meta.txt, data_batch_1.bin", Assert.Throws<TrainTuneException>(() => Cifar10.Load(Archive("missing", missing), validationRows: 5)).Message);

        var broken = Path.Combine(_folder, "broken");
        Directory.CreateDirectory(Path.Combine(broken, "cifar-10"));
        File.WriteAllBytes(Path.Combine(broken, Cifar10.Archive), [0x1f, 0x8b, 8, 0, 1, 2, 3]);
        Assert.Contains("is not the CIFAR-10 binary archive", Assert.Throws<TrainTuneException>(() => Cifar10.Load(new DataRoot(broken) { UseEnvironment = false, DownloadFolder = broken }, 5)).Message);

        Assert.Contains("has 15 training images; the protocol needs more than the 5000", Assert.Throws<TrainTuneException>(() => Cifar10.Load(Archive("few", Small()))).Message);
    }

    [Fact]
    public void Offline_without_the_archive_the_error_says_where_to_put_it()
    {
        var previous = Environment.GetEnvironmentVariable("TRAINTUNE_OFFLINE");
        Environment.SetEnvironmentVariable("TRAINTUNE_OFFLINE", "1");
        try
        {
            var empty = Path.Combine(_folder, "empty");
            var error = Assert.Throws<TrainTuneException>(() => Cifar10.Load(new DataRoot(empty) { UseEnvironment = false, DownloadFolder = empty }));
            Assert.Contains("'cifar-10/cifar-10-binary.tar.gz' was not found", error.Message);
            Assert.Contains("TRAINTUNE_OFFLINE=1 forbids downloading it from https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TRAINTUNE_OFFLINE", previous);
        }
    }
}
