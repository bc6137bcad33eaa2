using System.Buffers.Binary;
using System.IO.Compression;

namespace TrainTune.Tests.Data;

public class IdxAndFashionMnistTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-idx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static byte[] Idx(int magic, int[] shape, byte[] data)
    {
        var bytes = new byte[4 + 4 * shape.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (var d = 0; d < shape.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), shape[d]);
        data.CopyTo(bytes, 4 + 4 * shape.Length);
        return bytes;
    }

    string Write(string name, byte[] bytes, bool gzip)
    {
        var path = Path.Combine(_folder, name);
        using var file = File.Create(path);
        using var stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file;
        stream.Write(bytes);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_are_read_with_their_shape_gzipped_or_not(bool gzip)
    {
        var pixels = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)i).ToArray();
        var (shape, data) = TrainTune.Idx.Read(Write("images", Idx(TrainTune.Idx.ImagesMagic, [2, 3, 4], pixels), gzip), TrainTune.Idx.ImagesMagic);
        Assert.Equal([2, 3, 4], shape);
        Assert.Equal(pixels, data);
    }

    [Fact]
    public void Truncated_or_wrong_files_say_what_is_wrong()
    {
        var truncated = Idx(TrainTune.Idx.LabelsMagic, [10], new byte[7]);
        Assert.Contains("is truncated or padded: its header promises 10 bytes", Assert.Throws<TrainTuneException>(() => TrainTune.Idx.Read(Write("short", truncated, true), TrainTune.Idx.LabelsMagic)).Message);
        var labels = Idx(TrainTune.Idx.LabelsMagic, [3], new byte[3]);
        Assert.Contains("magic number 0x00000801, not 0x00000803 (images)", Assert.Throws<TrainTuneException>(() => TrainTune.Idx.Read(Write("labels", labels, false), TrainTune.Idx.ImagesMagic)).Message);
        Assert.Contains("not even an IDX header", Assert.Throws<TrainTuneException>(() => TrainTune.Idx.Read(Write("tiny", [0, 0], false), TrainTune.Idx.ImagesMagic)).Message);
        var broken = Path.Combine(_folder, "broken.gz");
        File.WriteAllBytes(broken, [0x1f, 0x8b, 8, 0, 1, 2, 3]);
        Assert.Contains("broken.gz' is truncated", Assert.Throws<TrainTuneException>(() => TrainTune.Idx.Read(broken, TrainTune.Idx.ImagesMagic)).Message);
    }

    [SkippableFact]
    public void Fashion_mnist_loads_with_the_papers_split_and_per_pixel_normalisation()
    {
        var data = FashionMnist.Load(RealData.Root());
        Assert.Equal([50_000L, 784L], data.Train.Inputs.shape);
        Assert.Equal([10_000L], data.Validation.Targets.shape);
        Assert.Equal([10_000L, 784L], data.Test!.Inputs.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, data.Train.Targets.dtype);
        Assert.Equal(9, data.Test.Targets.max().item<long>());
        var fit = TorchSharp.torch.cat([data.Train.Inputs, data.Validation.Inputs]).to(TorchSharp.torch.ScalarType.Float64);
        Assert.True(fit.mean([0]).abs().max().item<double>() < 1e-4);
    }

    [SkippableFact]
    public void Penn_treebank_has_the_standard_ten_thousand_word_vocabulary()
    {
        var ptb = PennTreebank.Load(RealData.Root());
        Assert.Equal(10_000, ptb.Vocabulary.Count);
        Assert.Equal(929_589L, ptb.Train.shape[0]);
        Assert.Equal(73_760L, ptb.Validation.shape[0]);
        Assert.Equal(82_430L, ptb.Test.shape[0]);
    }
}
