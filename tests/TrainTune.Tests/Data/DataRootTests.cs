using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace TrainTune.Tests.Data;

/// <summary>Data-root resolution and download against a loopback HTTP server that serves a temporary folder.</summary>
public class DataRootTests : IDisposable
{
    readonly string _served = Directory.CreateTempSubdirectory("traintune-served-").FullName;
    readonly string _cache = Directory.CreateTempSubdirectory("traintune-cache-").FullName;
    readonly HttpListener _server = new();
    readonly string _address;

    public DataRootTests()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        _address = $"http://127.0.0.1:{port}/";
        _server.Prefixes.Add(_address);
        _server.Start();
        _ = Task.Run(Serve);
    }

    async Task Serve()
    {
        while (_server.IsListening)
        {
            HttpListenerContext context;
            try { context = await _server.GetContextAsync(); } catch { return; }
            var path = Path.Combine(_served, context.Request.Url!.AbsolutePath.TrimStart('/'));
            if (File.Exists(path))
            {
                var bytes = await File.ReadAllBytesAsync(path);
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            else context.Response.StatusCode = 404;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _server.Stop();
        _server.Close();
        Directory.Delete(_served, true);
        Directory.Delete(_cache, true);
    }

    DataRoot Root(string sha256) => new()
    {
        UseEnvironment = false,
        DownloadFolder = _cache,
        Downloadable = [new DataFile("toy/data.txt", new Uri("https://example.invalid/toy.txt"), sha256)],
        AddressOverride = file => new Uri(_address + "toy.txt"),
    };

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void A_missing_known_file_is_downloaded_checked_and_kept_in_the_cache()
    {
        File.WriteAllText(Path.Combine(_served, "toy.txt"), "1 2 3\n");
        var path = Root(Hash("1 2 3\n")).Locate("toy/data.txt");
        Assert.Equal(Path.Combine(_cache, "toy", "data.txt"), path);
        Assert.Equal("1 2 3\n", File.ReadAllText(path));

        File.Delete(Path.Combine(_served, "toy.txt")); // found in the cache now, no download
        Assert.Equal(path, Root(Hash("1 2 3\n")).Locate("toy/data.txt"));
    }

    [Fact]
    public void A_download_with_the_wrong_checksum_is_discarded()
    {
        File.WriteAllText(Path.Combine(_served, "toy.txt"), "tampered\n");
        var error = Assert.Throws<TrainTuneException>(() => Root(Hash("1 2 3\n")).Locate("toy/data.txt"));
        Assert.Contains($"has SHA-256 {Hash("tampered\n")}", error.Message);
        Assert.Contains("it was discarded", error.Message);
        Assert.Empty(Directory.EnumerateFiles(_cache, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_cifar10_archive_that_is_not_the_published_one_is_discarded()
    {
        File.WriteAllText(Path.Combine(_served, "cifar.tar.gz"), "not the archive\n");
        var root = new DataRoot
        {
            UseEnvironment = false,
            DownloadFolder = _cache,
            Downloadable = [DataRoot.Known.Single(k => k.RelativePath == Cifar10.Archive)],
            AddressOverride = _ => new Uri(_address + "cifar.tar.gz"),
        };
        var error = Assert.Throws<TrainTuneException>(() => Cifar10.Load(root));
        Assert.Contains($"has SHA-256 {Hash("not the archive\n")}, not the expected c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", error.Message);
        Assert.Empty(Directory.EnumerateFiles(_cache, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_failed_download_names_every_place_looked_at_and_what_to_do()
    {
        var error = Assert.Throws<TrainTuneException>(() => Root(Hash("x")).Locate("toy/data.txt"));
        Assert.Contains($"looked in {Path.Combine(_cache, "toy/data.txt")}", error.Message);
        Assert.Contains("downloading it from " + _address + "toy.txt failed", error.Message);
        Assert.Contains("set TRAINTUNE_DATA", error.Message);
        var unknown = Assert.Throws<TrainTuneException>(() => Root(Hash("x")).Locate("other/file.txt"));
        Assert.Contains("'other/file.txt' was not found", unknown.Message);
    }

    [Fact]
    public void The_explicit_folder_comes_first()
    {
        var mine = Directory.CreateTempSubdirectory("traintune-mine-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(mine, "toy"));
            File.WriteAllText(Path.Combine(mine, "toy", "data.txt"), "mine");
            var root = new DataRoot(mine) { UseEnvironment = false, DownloadFolder = _cache };
            Assert.Equal(Path.Combine(mine, "toy", "data.txt"), root.Locate("toy/data.txt"));
            Assert.Equal([mine, _cache], root.Folders);
        }
        finally
        {
            Directory.Delete(mine, true);
        }
    }

    [Fact]
    public void Known_files_have_the_checksums_of_the_real_datasets()
    {
        var root = RealDataOrNull();
        if (root is null) return;
        foreach (var file in DataRoot.Known)
        {
            var path = root.Folders.Select(f => Path.Combine(f, file.RelativePath)).FirstOrDefault(File.Exists);
            if (path is not null) Assert.Equal(file.Sha256, DataRoot.Sha256(path, file.Gzipped));
        }
    }

    static DataRoot? RealDataOrNull()
    {
        var root = new DataRoot();
        return root.Folders.Any(f => Directory.Exists(Path.Combine(f, "uci"))) ? root : null;
    }
}
