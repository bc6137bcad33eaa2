using System.Text.RegularExpressions;
using TrainTune.Hosting;

namespace TrainTune.Build.Running;

/// <summary>Checks the TrainTune* properties before anything runs; each error names its knob.</summary>
internal static class KnobValidation
{
    public static IEnumerable<string> Errors(string? steps, string? method, string? seed, string? device, string? resume, string? warmStart, string? outputDirectory, string? threads = null,
        string? starts = null, string? tensorBoard = null)
    {
        if (!string.IsNullOrWhiteSpace(steps) && (!int.TryParse(steps, out var s) || s < 1))
            yield return $"TrainTuneSteps='{steps}' is not a positive whole number of weight steps.";
        if (!string.IsNullOrWhiteSpace(method) && MethodCatalogue.UnknownProblem("TrainTuneMethod", method!) is { } unknown)
            yield return unknown;
        var entry = MethodCatalogue.Find(method);
        if (!string.IsNullOrWhiteSpace(seed) && !long.TryParse(seed, out _))
            yield return $"TrainTuneSeed='{seed}' is not a whole number.";
        if (!string.IsNullOrWhiteSpace(device) && !Regex.IsMatch(device!.Trim(), "^(cpu|cuda|cuda:[0-9]+|auto)$", RegexOptions.IgnoreCase))
            yield return $"TrainTuneDevice='{device}' is not a device; use cpu, cuda, cuda:N or auto.";
        if (Hosting.ThreadKnob.Parse(threads, "TrainTuneThreads", out _) is { } threadsError) yield return threadsError;
        foreach (var (name, value) in new[] { ("TrainTuneResume", resume), ("TrainTuneWarmStart", warmStart), ("TrainTuneTensorBoard", tensorBoard) })
            if (!string.IsNullOrWhiteSpace(value) && !bool.TryParse(value, out _))
                yield return $"{name}='{value}' is not true or false.";
        if (bool.TryParse(resume, out var resuming) && resuming && entry is not null && MethodCatalogue.ResumeProblem(entry) is { } cannotResume)
            yield return cannotResume;
        if (!string.IsNullOrWhiteSpace(starts) && (!int.TryParse(starts, out var n) || n < 1))
            yield return $"TrainTuneStarts='{starts}' is not a positive whole number of starts (1 trains one start).";
        else if (int.TryParse(starts, out var many) && many > 1)
        {
            if (entry is not null && MethodCatalogue.StartsProblem(entry, many) is { } cannotStart)
                yield return cannotStart;
            if (bool.TryParse(resume, out var resumingStarts) && resumingStarts)
                yield return $"TrainTuneResume=true cannot resume TrainTuneStarts={many}: the starts train as one population, which keeps no checkpoint; run again without TrainTuneResume.";
        }
        if (OutputProblem(outputDirectory) is { } problem) yield return problem;
    }

    /// <summary>Errors of the experiment knobs TrainTuneInits and TrainTuneMethods.</summary>
    public static IEnumerable<string> ExperimentErrors(string? inits, string? methods, string? population = null)
    {
        if (PopulationProblem(population) is { } problem) yield return problem;
        if (!string.IsNullOrWhiteSpace(inits) && (!int.TryParse(inits, out var n) || n < 1))
            yield return $"TrainTuneInits='{inits}' is not a positive whole number of initialisations.";
        var unknown = SplitNames(methods).Where(m => MethodCatalogue.Find(m) is null).ToList();
        if (unknown.Count > 0)
            yield return $"TrainTuneMethods names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which {(unknown.Count == 1 ? "is" : "are")} not a method; the valid ones are: {string.Join(", ", MethodCatalogue.Names)}.";
    }

    /// <summary>Why TrainTunePopulation is not auto or a positive whole number, or null.</summary>
    public static string? PopulationProblem(string? population) =>
        string.IsNullOrWhiteSpace(population) || population.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)
        || (int.TryParse(population, out var n) && n >= 1)
            ? null
            : $"TrainTunePopulation='{population}' is not valid: use auto, or a positive whole number of initialisations per process (1 runs each alone).";

    /// <summary>TrainTunePopulation as a number, or null for auto.</summary>
    public static int? Population(string? population) => int.TryParse(population, out var n) && n >= 1 ? n : null;

    /// <summary>Why the output folder cannot be written, or null.</summary>
    public static string? OutputProblem(string? outputDirectory)
    {
        if (string.IsNullOrWhiteSpace(outputDirectory)) return "TrainTuneOutputDir is empty; set it to a folder for the reports.";
        try
        {
            Directory.CreateDirectory(outputDirectory!);
            var probe = Path.Combine(outputDirectory!, $".traintune-write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"TrainTuneOutputDir='{outputDirectory}' cannot be written ({e.Message}); choose a writable folder with -p:TrainTuneOutputDir=...";
        }
    }

    /// <summary>A knob's value, trimmed, or null when empty (knobs are checked by <see cref="Errors"/> before they are read).</summary>
    public static string? Value(string? knob) => string.IsNullOrWhiteSpace(knob) ? null : knob!.Trim();

    /// <summary>A whole-number knob already checked, or null when empty.</summary>
    public static long? Number(string? knob) => Value(knob) is { } text ? long.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>TrainTuneThreads already checked: null for auto, or the count.</summary>
    public static int? Threads(string? knob) => Hosting.ThreadKnob.Parse(knob, "TrainTuneThreads", out var threads) is null ? threads : null;

    /// <summary>Target names from TrainTuneTargets: separated by ',' or ';' (escaped as %3B on the command line).</summary>
    public static IReadOnlyList<string> SplitNames(string? names) =>
        string.IsNullOrWhiteSpace(names) ? [] : names!.Replace("%3B", ";").Replace("%3b", ";")
            .Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
