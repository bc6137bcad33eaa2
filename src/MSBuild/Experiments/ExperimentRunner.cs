using System.Collections.Concurrent;
using System.Globalization;
using TrainTune.Build.Running;

namespace TrainTune.Build.Experiments;

/// <summary>
/// Runs every (method, seed) of one target: the seeds of a method in populations (one host
/// process each, the members trained together) where they measured faster on this machine,
/// as many processes at a time as there are cores; each process gets its share of the cores
/// for the thread policy, and each run writes into its own folder.
/// </summary>
internal static class ExperimentRunner
{
    public sealed record Settings(string Dotnet, Func<Hosting.HostRunRequest, List<string>> HostArguments, string Assembly, string Target, string TargetDirectory,
        IReadOnlyList<string> Methods, int Inits, Hosting.RunKnobs Run, int Parallelism, int? Population = null);

    /// <summary>
    /// The most members a population process may have (measured with bench/PopulationBench, README
    /// "Benchmark": on the paper's UCI MLP a CPU core's time per member-step is lowest at 12–16
    /// members and rises beyond 24, when the stacked activations outgrow its caches).
    /// </summary>
    public const int MaxMembers = 16;

    /// <summary>
    /// The most members a process may have: TrainTunePopulation, or with auto so that every
    /// core has a process when there are fewer methods than cores, at most <see cref="MaxMembers"/>.
    /// </summary>
    public static int MembersPerProcess(Settings settings)
    {
        if (settings.Population is { } fixedSize) return Math.Min(fixedSize, settings.Inits);
        var processesPerMethod = (int)Math.Ceiling(Math.Max(1, settings.Parallelism) / (double)Math.Max(1, settings.Methods.Count));
        return Math.Clamp((int)Math.Ceiling(settings.Inits / (double)processesPerMethod), 1, MaxMembers);
    }

    /// <summary>
    /// Members per process for <paramref name="method"/> and why, when that is known before any
    /// run: TrainTunePopulation as given, or with auto a size that needs no measuring or one
    /// measured by an earlier build; null when auto must measure (see <see cref="Probe"/>).
    /// </summary>
    public static PopulationCalibration.Choice? Known(Settings settings, string method)
    {
        var bound = MembersPerProcess(settings);
        if (settings.Population is not null)
            return new(bound, $"TrainTunePopulation={settings.Population}");
        if (bound < 2)
            return new(1, "auto: one initialisation per process already fills the cores");
        if (Hosting.MethodCatalogue.Find(method) is { Stacks: false })
            return new(1, $"auto: {method} does not stack its runs");
        if (settings.Inits < 3)
            return new(1, "auto: too few initialisations to measure a population beside a single run");
        return PopulationCalibration.Cached(settings.TargetDirectory, Key(settings, method));
    }

    static string Key(Settings settings, string method) => PopulationCalibration.Key(settings.Assembly, settings.Target, method, CoreShare(settings));

    /// <summary>
    /// Auto's measurement, made of real runs of the experiment: the last seeds of
    /// <paramref name="seeds"/> as one population of the largest size a process may hold and,
    /// on another core at the same time, the first seeds as single runs one after another until
    /// the population is done. Returns the choice (cached) and the seeds it ran; a population
    /// that failed or was not stacked leaves its seeds to be run again as single runs.
    /// </summary>
    static (PopulationCalibration.Choice Choice, IReadOnlyList<long> Ran) Probe(Settings settings, string method, IReadOnlyList<long> seeds,
        Func<string, IReadOnlyList<long>, bool, IReadOnlyList<ExperimentRun>?> run)
    {
        var size = Math.Min(MembersPerProcess(settings), seeds.Count - 1);
        var population = seeds.TakeLast(size).ToList();
        var singles = new Queue<long>(seeds.Take(seeds.Count - size));
        var ranAlone = new List<long>();
        var (singleSeconds, singleSteps) = (0.0, 0L);
        void RunOneAlone()
        {
            var seed = singles.Dequeue();
            run(method, [seed], true);
            ranAlone.Add(seed);
            var path = Path.Combine(RunFolder(settings, method, seed), Hosting.HostProtocol.ResultFile);
            if (!File.Exists(path)) return; // failed: counted as such, and no measurement
            var result = Hosting.ResultFile.Read(path).Result;
            (singleSeconds, singleSteps) = (singleSeconds + result.Seconds, singleSteps + result.StepsCompleted);
        }
        IReadOnlyList<ExperimentRun>? together;
        if (settings.Parallelism >= 2)
        {
            var populationTask = Task.Run(() => run(method, population, false));
            do RunOneAlone(); while (!populationTask.IsCompleted && singles.Count > 0);
            together = populationTask.Result;
        }
        else
        {
            RunOneAlone();
            together = run(method, population, false);
        }

        string? problem = null;
        var files = population.Select(seed => Path.Combine(RunFolder(settings, method, seed), Hosting.HostProtocol.ResultFile)).ToList();
        if (together is null || !files.All(File.Exists))
            problem = "the population it measured failed; its runs are repeated one per process";
        else if (Hosting.ResultFile.Read(files[0]).Configuration.Note?.Contains("of a population", StringComparison.Ordinal) != true)
            problem = $"the model of {settings.Target} is not stacked as a population";
        if (problem is not null)
            return (new(1, $"auto: {problem}"), [.. ranAlone, .. together is null ? [] : population]);

        // A member's seconds are its share of the population's, which ran as long as its longest member.
        var results = files.Select(f => Hosting.ResultFile.Read(f).Result).ToList();
        var memberStep = results[0].Seconds * 1000 / Math.Max(1, results.Max(r => r.StepsCompleted));
        var singleStep = singleSteps > 0 ? singleSeconds * 1000 / singleSteps : double.NaN;
        var decided = PopulationCalibration.Decide(singleStep, [new(size, memberStep)]);
        var measuredOn = decided with { Why = $"{decided.Why}; measured on the first runs: {Seeds(ranAlone)} alone, {Seeds(population)} as one population" };
        return (PopulationCalibration.Remember(settings.TargetDirectory, Key(settings, method), measuredOn), [.. ranAlone, .. population]);
    }

    static string Seeds(IReadOnlyList<long> seeds) => seeds.Count == 1 ? $"seed {seeds[0]}" : $"seeds {seeds[0]}–{seeds[^1]}";

    /// <summary>
    /// The seeds of every method cut into processes of at most each method's size, as evenly as
    /// possible and into a multiple of <paramref name="parallelism"/> processes where that does not
    /// need more of them per method than seeds, so that the last round of processes is not one
    /// process alone (200 seeds in 16s: 13 processes, 7 rounds with one core idle in the last;
    /// in 14 processes of 14–15, every round is full).
    /// </summary>
    public static List<(string Method, long[] Seeds)> Chunks(IReadOnlyDictionary<string, IReadOnlyList<long>> seeds, Func<string, int> size, int parallelism)
    {
        var methods = seeds.Keys.Where(m => seeds[m].Count > 0).ToList();
        var counts = methods.ToDictionary(m => m, m => (int)Math.Ceiling(seeds[m].Count / (double)Math.Max(1, size(m))));
        var round = Math.Max(1, parallelism);
        foreach (var method in methods.OrderByDescending(size))
        {
            if (counts.Values.Sum() % round == 0) break;
            var add = Math.Min(round - counts.Values.Sum() % round, seeds[method].Count - counts[method]);
            if (size(method) > 1 && add > 0) counts[method] += add;
        }
        return [.. methods.SelectMany(m => Split(seeds[m], counts[m]).Select(part => (m, part)))];
    }

    /// <summary><paramref name="seeds"/> in <paramref name="parts"/> contiguous parts whose sizes differ by at most one.</summary>
    static IEnumerable<long[]> Split(IReadOnlyList<long> seeds, int parts)
    {
        var start = 0;
        for (var k = 0; k < parts; k++)
        {
            var length = seeds.Count / parts + (k < seeds.Count % parts ? 1 : 0);
            yield return [.. seeds.Skip(start).Take(length)];
            start += length;
        }
    }

    static int CoreShare(Settings settings) => Math.Max(1, Environment.ProcessorCount / Math.Max(1, settings.Parallelism));

    /// <summary>The folder of one run: &lt;target&gt;/runs/&lt;method&gt;/&lt;seed&gt;.</summary>
    public static string RunFolder(Settings settings, string method, long seed) =>
        Path.Combine(settings.TargetDirectory, "runs", method, seed.ToString(CultureInfo.InvariantCulture));

    /// <summary>The host's request for <paramref name="members"/> of one method: one run, or a population.</summary>
    public static Hosting.HostRunRequest Request(Settings settings, string method, IReadOnlyList<Hosting.HostRunRequest.Member> members, int cores) =>
        new(settings.Assembly, settings.Target, members[0].OutputDirectory,
            // Each run from the paper's random initial values, to the end: no checkpoints, starts or warm start.
            new Hosting.RunKnobs(settings.Run.Steps, method, members[0].Seed, settings.Run.Device, settings.Run.Threads,
                ValidationBatchSize: settings.Run.ValidationBatchSize, TensorBoard: settings.Run.TensorBoard, CheckpointEveryBlocks: 1_000_000),
            RandomInitial: true, Cores: cores, Population: members.Count > 1 ? members : null);

    /// <summary>Runs the experiment; with auto, each method's size is measured on its first runs unless known (<see cref="Known"/>).</summary>
    public static IReadOnlyList<ExperimentRun> Run(Settings settings, Action<string> log)
    {
        var total = settings.Methods.Count * settings.Inits;
        var runs = new ConcurrentBag<ExperimentRun>();
        var done = 0;
        var coreShare = CoreShare(settings);

        // One host process for <seeds> of <method>; null when it failed and <quiet> keeps its runs out of the results.
        IReadOnlyList<ExperimentRun>? RunProcess(string method, IReadOnlyList<long> seeds, bool quiet)
        {
            var members = seeds.Select(seed =>
            {
                var folder = RunFolder(settings, method, seed);
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
                return new Hosting.HostRunRequest.Member(seed, folder);
            }).ToList();
            var arguments = settings.HostArguments(Request(settings, method, members, coreShare));
            var outcome = ChildProcess.Run(settings.Dotnet, arguments, _ => { });
            var failure = outcome.ExitCode == 0 ? null : $"exit code {outcome.ExitCode}: {string.Join(" / ", outcome.Tail.TakeLast(3))}";
            if (failure is not null && quiet) return null;
            var read = members.Select(member => ExperimentRun.Read(method, member.Seed, member.OutputDirectory, failure)).ToList();
            foreach (var run in read)
            {
                runs.Add(run);
                var count = Interlocked.Increment(ref done);
                log(string.Create(CultureInfo.InvariantCulture,
                    $"{settings.Target}: {count}/{total} {method} seed {run.Seed}: {(run.Failure ?? (run.Diverged ? "diverged" : $"test {run.MetricName} {run.Test:G4}"))} ({run.Seconds:F1} s)"));
            }
            return read;
        }

        var remaining = settings.Methods.Distinct().ToDictionary(m => m, _ => (IReadOnlyList<long>)[.. Enumerable.Range(1, settings.Inits).Select(s => (long)s)]);
        var choices = new Dictionary<string, PopulationCalibration.Choice>();
        foreach (var method in remaining.Keys.ToList())
        {
            var choice = Known(settings, method);
            if (choice is null)
            {
                // A population that fails while measuring is run again one per process, and only then counted.
                var (measured, ran) = Probe(settings, method, remaining[method], (m, seeds, alone) => RunProcess(m, seeds, quiet: !alone));
                remaining[method] = [.. remaining[method].Except(ran)];
                choice = measured;
            }
            choices[method] = choice;
            log($"TrainTune: {settings.Target}: {method}: {choice}");
        }
        var chunks = Chunks(remaining, m => choices[m].Members, settings.Parallelism);
        Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.Parallelism) }, chunk => RunProcess(chunk.Method, chunk.Seeds, quiet: false));
        return runs.ToList();
    }
}
