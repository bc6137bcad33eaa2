using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Data;

public class ParsedDataCacheTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-cache-test-").FullName;
    readonly string _savedCacheFolder = ParsedDataCache.Folder;

    public ParsedDataCacheTests() => ParsedDataCache.Folder = Path.Combine(_folder, "parsed");

    public void Dispose()
    {
        ParsedDataCache.Folder = _savedCacheFolder;
        Directory.Delete(_folder, recursive: true);
    }

    string Source(string text)
    {
        var path = Path.Combine(_folder, "source.txt");
        File.WriteAllText(path, text);
        return path;
    }

    Dictionary<string, Tensor> Get(string source, string version, Func<Dictionary<string, Tensor>> parse) =>
        ParsedDataCache.GetOrParse("toy", version, [source], parse);

    [Fact]
    public void A_parse_is_reused_until_the_source_or_the_version_changes()
    {
        var parses = 0;
        Dictionary<string, Tensor> Parse(string path) { parses++; return new() { ["x"] = torch.tensor(File.ReadAllText(path).Select(c => (double)c).ToArray()) }; }
        var source = Source("abc");

        var first = Get(source, "v1", () => Parse(source));
        var second = Get(source, "v1", () => Parse(source));
        Assert.Equal(1, parses);
        Assert.Equal(first["x"].data<double>().ToArray(), second["x"].data<double>().ToArray());

        File.WriteAllText(source, "abd");
        Assert.Equal((double)'d', Get(source, "v1", () => Parse(source))["x"][2].item<double>());
        Assert.Equal(2, parses);
        Get(source, "v2", () => Parse(source));
        Assert.Equal(3, parses);
        Get(source, "v2", () => Parse(source));
        Assert.Equal(3, parses);
    }

    [Fact]
    public void A_damaged_cache_file_is_parsed_again_and_replaced()
    {
        var parses = 0;
        var source = Source("abc");
        Dictionary<string, Tensor> Parse() { parses++; return new() { ["x"] = torch.arange(5) }; }
        Get(source, "v1", Parse);
        var cached = Directory.GetFiles(ParsedDataCache.Folder).Single();
        var bytes = File.ReadAllBytes(cached);
        File.WriteAllBytes(cached, bytes[..(bytes.Length - 7)]);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => (long)i), Get(source, "v1", Parse)["x"].data<long>().ToArray());
        Assert.Equal(2, parses);
        Assert.Equal(bytes, File.ReadAllBytes(cached));
    }

    [Fact]
    public void An_unwritable_cache_folder_still_returns_the_parse()
    {
        ParsedDataCache.Folder = "/proc/traintune-parsed";
        var source = Source("abc");
        Assert.Equal(3, Get(source, "v1", () => new() { ["x"] = torch.ones(3) })["x"].sum().item<float>());
    }

    [Fact]
    public void A_uci_file_from_the_cache_is_the_same_as_a_fresh_parse()
    {
        var rows = Enumerable.Range(0, 12).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r} {Math.Sin(r):R} {2 * r + 0.5}"));
        var data = Path.Combine(_folder, "data.txt");
        File.WriteAllLines(data, rows);
        var parsed = UciDataset.LoadFile("Toy", data, null, 6, 3, 3);
        Assert.Single(Directory.GetFiles(ParsedDataCache.Folder));
        var cached = UciDataset.LoadFile("Toy", data, null, 6, 3, 3);
        Assert.Equal((parsed.TargetMean, parsed.TargetStd), (cached.TargetMean, cached.TargetStd));
        foreach (var (a, b) in new[] { (parsed.Data.Train, cached.Data.Train), (parsed.Data.Validation, cached.Data.Validation), (parsed.Data.Test!, cached.Data.Test!) })
        {
            Assert.Equal(a.Inputs.data<float>().ToArray(), b.Inputs.data<float>().ToArray());
            Assert.Equal(a.Targets.data<float>().ToArray(), b.Targets.data<float>().ToArray());
        }
        // Other split sizes are another parse, not the cached one.
        Assert.Equal([7L, 2L], UciDataset.LoadFile("Toy", data, null, 7, 3, 2).Data.Train.Inputs.shape);
    }
}
