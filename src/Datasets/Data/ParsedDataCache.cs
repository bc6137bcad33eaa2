using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Datasets parsed once, not in every process: each training target starts a process that loads
/// its data afresh, and gunzipping Fashion-MNIST or parsing UCI text costs more than the rest of
/// that start. A loader's tensors are kept in <c>~/.cache/traintune/parsed/</c> (not beside the
/// source, whose folder may be read-only or shared) together with the SHA-256 of every source
/// file and the loader's version; they are used only while both still match, so an edited file
/// or a changed protocol is parsed anew. The cache is an optimisation: when it cannot be read or
/// written the loader parses as if it were not there. <c>TRAINTUNE_PARSED_CACHE=0</c> turns it off.
/// </summary>
internal static class ParsedDataCache
{
    const string Magic = "TRAINTUNE-PARSED-1";

    /// <summary>Where the parsed files go; tests point it elsewhere.</summary>
    internal static string Folder { get; set; } = Path.Combine(DataRoot.CacheFolder, "parsed");

    static bool Enabled => Environment.GetEnvironmentVariable("TRAINTUNE_PARSED_CACHE") != "0";

    /// <summary>The tensors <paramref name="parse"/> makes from <paramref name="sources"/>, from the cache when it holds them.</summary>
    /// <param name="name">A file-name-safe name for the cache file (e.g. "uci-energy").</param>
    /// <param name="version">Everything besides the sources that decides the result (the loader's version, its parameters).</param>
    public static Dictionary<string, Tensor> GetOrParse(string name, string version, IReadOnlyList<string> sources, Func<Dictionary<string, Tensor>> parse)
    {
        if (!Enabled) return parse();
        var fullPaths = sources.Select(Path.GetFullPath).ToArray();
        var key = version + "\n" + string.Join("\n", fullPaths.Select(p => $"{p} {Sha256(p)}"));
        var path = Path.Combine(Folder, $"{name}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", fullPaths))))[..16]}.tensors");
        if (TryLoad(path, key) is { } cached) return cached;
        var parsed = parse();
        TrySave(path, key, parsed);
        return parsed;
    }

    static string Sha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    // The file: magic, key, SHA-256 of the payload, payload (count, then name and tensor each).
    static Dictionary<string, Tensor>? TryLoad(string path, string key)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (reader.ReadString() != Magic || reader.ReadString() != key) return null;
            var checksum = reader.ReadString();
            var payload = reader.ReadBytes(checked((int)(reader.BaseStream.Length - reader.BaseStream.Position)));
            if (Convert.ToHexStringLower(SHA256.HashData(payload)) != checksum) return null;
            using var content = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var count = content.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var name = content.ReadString();
                tensors[name] = TensorExtensionMethods.Load(content);
            }
            return tensors;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EndOfStreamException or OverflowException
            or System.Runtime.InteropServices.ExternalException or ArgumentException)
        {
            return null;
        }
    }

    static void TrySave(string path, string key, Dictionary<string, Tensor> tensors)
    {
        try
        {
            using var payload = new MemoryStream();
            using (var content = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
            {
                content.Write(tensors.Count);
                foreach (var (name, tensor) in tensors)
                {
                    content.Write(name);
                    tensor.cpu().Save(content);
                }
            }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Hosting.AtomicFile.Write(path, stream =>
            {
                using var writer = new BinaryWriter(stream, Encoding.UTF8);
                writer.Write(Magic);
                writer.Write(key);
                writer.Write(Convert.ToHexStringLower(SHA256.HashData(payload.GetBuffer().AsSpan(0, (int)payload.Length))));
                writer.Write(payload.GetBuffer(), 0, (int)payload.Length);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
