using System.Buffers.Binary;
using System.IO.Compression;

namespace TrainTune;

/// <summary>Reads IDX files (the MNIST format), gzipped or not: unsigned bytes with a big-endian header.</summary>
public static class Idx
{
    public const int ImagesMagic = 0x00000803, LabelsMagic = 0x00000801;

    /// <summary>The dimensions and the bytes of an IDX file whose magic number must be <paramref name="expectedMagic"/>.</summary>
    public static (int[] Shape, byte[] Data) Read(string path, int expectedMagic)
    {
        if (!File.Exists(path)) throw new TrainTuneException($"The IDX file '{path}' does not exist.");
        byte[] bytes;
        try
        {
            using var file = File.OpenRead(path);
            var gzipped = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
            file.Position = 0;
            using var content = gzipped ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            using var memory = new MemoryStream();
            content.CopyTo(memory);
            bytes = memory.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new TrainTuneException($"'{path}' is not a valid gzip file ({e.Message}); download it again.", e);
        }
        if (bytes.Length < 8) throw new TrainTuneException($"'{path}' is truncated: {bytes.Length} bytes, not even an IDX header.");
        var magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (magic != expectedMagic)
            throw new TrainTuneException($"'{path}' has IDX magic number 0x{magic:x8}, not 0x{expectedMagic:x8} ({(expectedMagic == ImagesMagic ? "images" : "labels")}); it is not the file expected here.");
        var dimensions = magic & 0xff;
        if (bytes.Length < 4 + 4 * dimensions) throw new TrainTuneException($"'{path}' is truncated inside its header.");
        var shape = Enumerable.Range(0, dimensions).Select(d => BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d))).ToArray();
        var expected = shape.Aggregate(1L, (a, b) => a * b);
        var offset = 4 + 4 * dimensions;
        if (bytes.Length - offset != expected)
            throw new TrainTuneException($"'{path}' is truncated or padded: its header promises {expected} bytes of data ({string.Join(" x ", shape)}) but it has {bytes.Length - offset}.");
        return (shape, bytes[offset..]);
    }
}
