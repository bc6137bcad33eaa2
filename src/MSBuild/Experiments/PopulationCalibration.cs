using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace TrainTune.Build.Experiments;

/// <summary>
/// TrainTunePopulation=auto, decided by measuring on the machine at hand (README, "Experiments"):
/// whether a population pays depends on the CPU (the same population of 16 ran 2× faster per
/// member than single runs on one CPU type and 0.6× on another). The experiment's first runs are
/// the measurement (<see cref="ExperimentRunner"/>): one population of the largest size a process
/// may hold and, beside it, single runs one after another; a population is chosen for the rest
/// when its time per member-step is at most <see cref="Margin"/> of the single runs', one run per
/// process otherwise. The choice is cached in the target's folder per CPU, cores, target assembly
/// and method, so a later build measures nothing.
/// </summary>
internal static class PopulationCalibration
{
    /// <summary>How many runs a process trains together, and why (for the build log).</summary>
    public sealed record Choice(int Members, string Why)
    {
        public override string ToString() => $"{(Members == 1 ? "one run" : $"populations of up to {Members}")} per process ({Why})";
    }

    /// <summary>The time per member-step of one size (1: a single run), in milliseconds.</summary>
    public sealed record Measurement(int Members, double Milliseconds);

    sealed record CacheEntry(string Key, int Members, string Why, string MeasuredAt);

    /// <summary>
    /// A population is chosen only when a member-step costs at most this share of a single
    /// run's: runs on these machines vary by about ±10% from one to the next.
    /// </summary>
    public const double Margin = 0.9;

    public const string CacheFile = "population-calibration.json";

    /// <summary>One single run's seconds and weight steps.</summary>
    public sealed record SingleRun(double Seconds, long Steps);

    /// <summary>
    /// A single run's time per weight step, in milliseconds: the median over <paramref name="runs"/>
    /// (NaN without one that took a step). Not their mean: the build's first run shares its first
    /// seconds with the build itself and has taken 2–3× the others (10.2 s against 3.4–4.5), and a
    /// single run made to look slower would make a population look faster than it is.
    /// </summary>
    public static double SingleRunMilliseconds(IReadOnlyList<SingleRun> runs)
    {
        var perStep = runs.Where(r => r.Steps > 0).Select(r => r.Seconds * 1000 / r.Steps).Order().ToList();
        if (perStep.Count == 0) return double.NaN;
        var middle = perStep.Count / 2;
        return perStep.Count % 2 == 1 ? perStep[middle] : (perStep[middle - 1] + perStep[middle]) / 2;
    }

    /// <summary>The size to use given the single run's and the populations' times per member-step.</summary>
    public static Choice Decide(double single, IReadOnlyList<Measurement> populations)
    {
        var measured = string.Join(", ", populations.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Members}: {m.Milliseconds:F3}")));
        var summary = string.Create(CultureInfo.InvariantCulture, $"ms per member-step, one run {single:F3}; populations of {measured}");
        // A time that is not positive is noise larger than the difference measured: nothing to go by.
        var best = populations.Where(m => double.IsFinite(m.Milliseconds) && m.Milliseconds > 0).MinBy(m => m.Milliseconds);
        if (best is null || !double.IsFinite(single) || single <= 0 || best.Milliseconds > Margin * single)
            return new(1, string.Create(CultureInfo.InvariantCulture, $"auto: no population measured {(1 - Margin) * 100:F0}% faster per member than one run; {summary}"));
        return new(best.Members, string.Create(CultureInfo.InvariantCulture,
            $"auto: a population of {best.Members} measured {single / best.Milliseconds:F1}× faster per member than one run; {summary}"));
    }

    /// <summary>The choice cached for <paramref name="key"/> in <paramref name="folder"/>, or null.</summary>
    public static Choice? Cached(string folder, string key)
    {
        var path = Path.Combine(folder, CacheFile);
        return Read(path).FirstOrDefault(e => e.Key == key) is { } cached
            ? new(cached.Members, $"{cached.Why}; measured {cached.MeasuredAt}, cached in {path}")
            : null;
    }

    /// <summary>Caches <paramref name="choice"/> for <paramref name="key"/>; what the build log says of it.</summary>
    public static Choice Remember(string folder, string key, Choice choice)
    {
        var path = Path.Combine(folder, CacheFile);
        var entry = new CacheEntry(key, choice.Members, choice.Why, DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        Hosting.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(Read(path).Where(e => e.Key != key).Append(entry).ToList(), Hosting.ProtocolJson.Options));
        return choice with { Why = $"{choice.Why}; cached in {path}" };
    }

    /// <summary>What a cached choice is valid for: the CPU and cores, the target's assembly (its model), the target and the method.</summary>
    public static string Key(string assembly, string target, string method, int cores)
    {
        string hash;
        try
        {
            using var stream = File.OpenRead(assembly);
            hash = Convert.ToHexString(SHA256.HashData(stream))[..16];
        }
        catch (IOException)
        {
            hash = "unreadable";
        }
        return string.Create(CultureInfo.InvariantCulture, $"{Hosting.Machine.Description()}; {cores} core(s) per process; {target} in {Path.GetFileName(assembly)} {hash}; {method}");
    }

    static List<CacheEntry> Read(string path)
    {
        if (!File.Exists(path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<CacheEntry>>(File.ReadAllText(path), Hosting.ProtocolJson.Options) ?? [];
        }
        catch (JsonException)
        {
            // A cache that cannot be read is measured again and rewritten.
            return [];
        }
    }
}
