using System.Globalization;
using System.Text.RegularExpressions;
using TrainTune.Build.Scheduling;
using TrainTune.Hosting;

namespace TrainTune.Build.Running;

/// <summary>
/// The TrainTune* properties as one typed request, read and checked in one place: the targets
/// file lists every knob once (the <c>_TrainTuneKnob</c> items, named without the TrainTune
/// prefix), every task reads them here, and the host receives the run's part
/// (<see cref="RunKnobs"/>) inside its request. Each error names its property.
/// </summary>
internal sealed record BuildKnobs(
    RunKnobs Run,
    string OutputDirectory,
    IReadOnlyList<string> Methods,
    int? Inits,
    int? Population,
    bool OnSlurm,
    SlurmSettings Slurm,
    int ProgressIntervalSeconds)
{
    /// <summary>Whether TrainTuneInits asks for an experiment (initialisations × methods).</summary>
    public bool Experiment => Inits is not null;

    /// <summary>
    /// The knobs in <paramref name="properties"/> (by name without the TrainTune prefix; a missing
    /// or empty one keeps its default), and every error, each naming its property.
    /// </summary>
    public static BuildKnobs Read(IReadOnlyDictionary<string, string?> properties, out IReadOnlyList<string> errors)
    {
        var reader = new Reader(properties);
        // In the order the errors are reported.
        var steps = reader.Positive("Steps", "a positive whole number of weight steps");
        var method = reader.Text("Method");
        if (method is not null && MethodCatalogue.UnknownProblem("TrainTuneMethod", method) is { } unknown) reader.Errors.Add(unknown);
        var entry = MethodCatalogue.Find(method);
        var seed = reader.Whole("Seed");
        var device = reader.Matching("Device", "^(cpu|cuda|cuda:[0-9]+|auto)$", "is not a device; use cpu, cuda, cuda:N or auto");
        var threads = reader.Threads();
        var resume = reader.Flag("Resume");
        var warmStart = reader.Flag("WarmStart");
        var tensorBoard = reader.Flag("TensorBoard");
        var starts = reader.Positive("Starts", "a positive whole number of starts (1 trains one start)");
        var run = new RunKnobs(steps, method, seed, device, threads, starts,
            ValidationBatchSize: reader.Positive("ValidationBatchSize", "a positive whole number of validation rows per hyper step"),
            Resume: resume, WarmStart: warmStart, TensorBoard: tensorBoard,
            CheckpointEveryBlocks: reader.Positive("CheckpointEvery", "a positive whole number of hyper steps between checkpoints") ?? 20);
        // What the method catalogue refuses, in its words.
        if (entry is not null && resume && MethodCatalogue.ResumeProblem(entry) is { } cannotResume) reader.Errors.Add(cannotResume);
        if (entry is not null && starts is > 1 && MethodCatalogue.StartsProblem(entry, starts.Value) is { } cannotStart) reader.Errors.Add(cannotStart);
        if (resume && starts is > 1)
            reader.Errors.Add($"TrainTuneResume=true cannot resume TrainTuneStarts={starts}: the starts train as one population, which keeps no checkpoint; run again without TrainTuneResume.");

        var outputDirectory = reader.Text("OutputDir") ?? "";
        if (OutputProblem(outputDirectory) is { } outputProblem) reader.Errors.Add(outputProblem);

        var methods = SplitNames(reader.Text("Methods"));
        var unknownMethods = methods.Where(m => MethodCatalogue.Find(m) is null).ToList();
        if (unknownMethods.Count > 0)
            reader.Errors.Add($"TrainTuneMethods names {string.Join(", ", unknownMethods.Select(u => $"'{u}'"))}, which {(unknownMethods.Count == 1 ? "is" : "are")} not a method; the valid ones are: {string.Join(", ", MethodCatalogue.Names)}.");
        if (methods.Count == 0) methods = [method ?? MethodName.OnePass];

        var population = reader.Text("Population");
        if (PopulationProblem(population) is { } populationProblem) reader.Errors.Add(populationProblem);
        var inits = reader.Positive("Inits", "a positive whole number of initialisations");

        var scheduler = reader.Text("Scheduler");
        foreach (var error in SlurmSettings.Errors(scheduler, reader.Text("SlurmCpus"), reader.Text("SlurmMemory"), reader.Text("SlurmTime"), reader.Text("SlurmConcurrency"), reader.Text("SlurmWait")))
            reader.Errors.Add(error);
        var slurm = SlurmSettings.From(reader.Text("SlurmPartition"), reader.Text("SlurmCpus"), reader.Text("SlurmMemory"), reader.Text("SlurmTime"),
            reader.Text("SlurmConcurrency"), reader.Text("SlurmArguments"), reader.Text("SlurmWait"));

        errors = reader.Errors;
        return new BuildKnobs(run, outputDirectory, methods, inits, int.TryParse(population, out var size) && size >= 1 ? size : null,
            SlurmSettings.IsSlurm(scheduler), slurm, reader.Positive("ProgressInterval", "a positive whole number of seconds between progress lines") ?? 5);
    }

    /// <summary>Reads one property at a time, collecting the errors.</summary>
    sealed class Reader(IReadOnlyDictionary<string, string?> properties)
    {
        public List<string> Errors { get; } = [];

        /// <summary>The value trimmed, or null when missing or empty.</summary>
        public string? Text(string name) => properties.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value!.Trim() : null;

        public int? Positive(string name, string what)
        {
            if (Text(name) is not { } text) return null;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1) return n;
            Errors.Add($"TrainTune{name}='{properties[name]}' is not {what}.");
            return null;
        }

        public long? Whole(string name)
        {
            if (Text(name) is not { } text) return null;
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return n;
            Errors.Add($"TrainTune{name}='{properties[name]}' is not a whole number.");
            return null;
        }

        public bool Flag(string name)
        {
            if (Text(name) is not { } text) return false;
            if (bool.TryParse(text, out var flag)) return flag;
            Errors.Add($"TrainTune{name}='{properties[name]}' is not true or false.");
            return false;
        }

        public string? Matching(string name, string pattern, string problem)
        {
            if (Text(name) is not { } text) return null;
            if (Regex.IsMatch(text, pattern, RegexOptions.IgnoreCase)) return text;
            Errors.Add($"TrainTune{name}='{properties[name]}' {problem}.");
            return null;
        }

        /// <summary>TrainTuneThreads: null for auto, or the count.</summary>
        public int? Threads()
        {
            var text = Text("Threads");
            if (ThreadKnob.Parse(text, "TrainTuneThreads", out var threads) is { } error)
            {
                Errors.Add(error);
                return null;
            }
            return threads;
        }
    }

    /// <summary>Why TrainTunePopulation is not auto or a positive whole number, or null.</summary>
    static string? PopulationProblem(string? population) =>
        population is null || population.Equals("auto", StringComparison.OrdinalIgnoreCase) || (int.TryParse(population, out var n) && n >= 1)
            ? null
            : $"TrainTunePopulation='{population}' is not valid: use auto, or a positive whole number of initialisations per process (1 runs each alone).";

    /// <summary>Why the output folder cannot be written, or null.</summary>
    static string? OutputProblem(string outputDirectory)
    {
        if (string.IsNullOrWhiteSpace(outputDirectory)) return "TrainTuneOutputDir is empty; set it to a folder for the reports.";
        try
        {
            Directory.CreateDirectory(outputDirectory);
            var probe = Path.Combine(outputDirectory, $".traintune-write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"TrainTuneOutputDir='{outputDirectory}' cannot be written ({e.Message}); choose a writable folder with -p:TrainTuneOutputDir=...";
        }
    }

    /// <summary>Names from TrainTuneTargets or TrainTuneMethods: separated by ',' or ';' (escaped as %3B on the command line).</summary>
    public static IReadOnlyList<string> SplitNames(string? names) =>
        string.IsNullOrWhiteSpace(names) ? [] : names!.Replace("%3B", ";").Replace("%3b", ";")
            .Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
