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
    /// measured by an earlier build; null when auto must measure it (see <see cref="Measure"/>).
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

    /// <summary>One method's measurement: its last seeds as one population, its first ones alone.</summary>
    sealed class Probe(string method, IReadOnlyList<long> population, IEnumerable<long> alone)
    {
        public string Method { get; } = method;
        public IReadOnlyList<long> Population { get; } = population;
        public Queue<long> Alone { get; } = new(alone);
        public bool PopulationStarted { get; set; }
        public bool PopulationDone { get; set; }
        public int AloneStarted { get; set; }
        public IReadOnlyList<ExperimentRun>? Together { get; set; }
        public bool NotStacked { get; set; }
        public List<long> RanAlone { get; } = [];
        public List<PopulationCalibration.SingleRun> AloneTimes { get; } = [];
    }

    /// <summary>
    /// Auto's measurement, made of real runs of the experiment, for every method that needs one:
    /// each method's last seeds as one population of the largest size a process may hold, and its
    /// first seeds as single runs. The cores take, in turn, a population not yet started, a
    /// method's first single run, or another single run of a method whose population is still
    /// training, so no core waits while there is a measurement to make. Returns each method's
    /// choice (cached) and the seeds it ran; a population that failed or was not stacked leaves
    /// its seeds to be run as single runs.
    /// </summary>
    static Dictionary<string, (PopulationCalibration.Choice Choice, IReadOnlyList<long> Ran)> Measure(Settings settings,
        IReadOnlyDictionary<string, IReadOnlyList<long>> seeds, Func<string, IReadOnlyList<long>, bool, (IReadOnlyList<ExperimentRun>? Runs, bool NotStacked, string? Failure)> run)
    {
        var size = MembersPerProcess(settings);
        var probes = seeds.Select(m => new Probe(m.Key, [.. m.Value.TakeLast(Math.Min(size, m.Value.Count - 1))], m.Value.Take(m.Value.Count - Math.Min(size, m.Value.Count - 1)))).ToList();
        var gate = new object();
        Action? Next()
        {
            lock (gate)
            {
                if (probes.FirstOrDefault(p => !p.PopulationStarted) is { } starting)
                {
                    starting.PopulationStarted = true;
                    return () =>
                    {
                        var (together, notStacked, _) = run(starting.Method, starting.Population, false);
                        lock (gate) (starting.Together, starting.NotStacked, starting.PopulationDone) = (together, notStacked, true);
                    };
                }
                var alone = probes.FirstOrDefault(p => p.AloneStarted == 0 && p.Alone.Count > 0)
                    ?? probes.FirstOrDefault(p => !p.PopulationDone && p.Alone.Count > 0);
                if (alone is null) return null;
                var seed = alone.Alone.Dequeue();
                alone.AloneStarted++;
                return () =>
                {
                    run(alone.Method, [seed], true);
                    var path = Path.Combine(RunFolder(settings, alone.Method, seed), Hosting.HostProtocol.ResultFile);
                    // A failed run is counted as such and measures nothing.
                    var result = File.Exists(path) ? Hosting.ResultFile.Read(path).Result : null;
                    lock (gate)
                    {
                        alone.RanAlone.Add(seed);
                        if (result is not null) alone.AloneTimes.Add(new(result.Seconds, result.StepsCompleted));
                    }
                };
            }
        }
        Parallel.For(0, Math.Max(1, settings.Parallelism), _ =>
        {
            while (Next() is { } work) work();
        });
        return probes.ToDictionary(p => p.Method, p => Decide(settings, p));
    }

    static (PopulationCalibration.Choice Choice, IReadOnlyList<long> Ran) Decide(Settings settings, Probe probe)
    {
        string? problem = null;
        var files = probe.Population.Select(seed => Path.Combine(RunFolder(settings, probe.Method, seed), Hosting.HostProtocol.ResultFile)).ToList();
        if (probe.NotStacked)
            problem = $"the model of {settings.Target} is not stacked as a population (the host said so before training)";
        else if (probe.Together is null || !files.All(File.Exists))
            problem = "the population it measured failed; its runs are repeated one per process";
        else if (Hosting.ResultFile.Read(files[0]).Configuration.Note?.Contains("of a population", StringComparison.Ordinal) != true)
            problem = $"the model of {settings.Target} is not stacked as a population";
        if (problem is not null)
            return (new(1, $"auto: {problem}"), [.. probe.RanAlone, .. probe.Together is null ? [] : probe.Population]);

        // A member's seconds are its share of the population's, which ran as long as its longest member.
        var results = files.Select(f => Hosting.ResultFile.Read(f).Result).ToList();
        var memberStep = results[0].Seconds * 1000 / Math.Max(1, results.Max(r => r.StepsCompleted));
        var singleStep = PopulationCalibration.SingleRunMilliseconds(probe.AloneTimes);
        var decided = PopulationCalibration.Decide(singleStep, [new(probe.Population.Count, memberStep)]);
        var ranAlone = probe.RanAlone.Order().ToList();
        var measuredOn = decided with { Why = $"{decided.Why}; measured on the first runs: {Seeds(ranAlone)} alone, {Seeds(probe.Population)} as one population" };
        return (PopulationCalibration.Remember(settings.TargetDirectory, Key(settings, probe.Method), measuredOn), [.. ranAlone, .. probe.Population]);
    }

    /// <summary>The last lines a failed process wrote that say why: its message rather than the stack frames below it.</summary>
    static string Reason(IReadOnlyList<string> tail)
    {
        var said = tail.Where(l => !string.IsNullOrWhiteSpace(l) && !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).ToList();
        return string.Join(" / ", (said.Count > 0 ? said : tail).TakeLast(3).Select(l => l.Trim()));
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
    public static Hosting.HostRunRequest Request(Settings settings, string method, IReadOnlyList<Hosting.HostRunRequest.Member> members, int cores, bool stackedOnly = false) =>
        new(settings.Assembly, settings.Target, members[0].OutputDirectory,
            // Each run from the paper's random initial values, to the end: no checkpoints, starts or warm start.
            new Hosting.RunKnobs(settings.Run.Steps, method, members[0].Seed, settings.Run.Device, settings.Run.Threads,
                ValidationBatchSize: settings.Run.ValidationBatchSize, TensorBoard: settings.Run.TensorBoard, CheckpointEveryBlocks: 1_000_000),
            RandomInitial: true, Cores: cores, Population: members.Count > 1 ? members : null, StackedOnly: stackedOnly && members.Count > 1);

    /// <summary>Runs the experiment; with auto, each method's size is measured on its first runs unless known (<see cref="Known"/>).</summary>
    public static IReadOnlyList<ExperimentRun> Run(Settings settings, Action<string> log)
    {
        var total = settings.Methods.Count * settings.Inits;
        var runs = new ConcurrentBag<ExperimentRun>();
        var done = 0;
        var coreShare = CoreShare(settings);

        // One host process for <seeds> of <method>; null when it failed and <quiet> keeps its runs out
        // of the results. A measuring population (<measuring>) must be stacked: where it cannot be,
        // the host runs nothing and says so (NotStacked), and its seeds are left to single runs.
        (IReadOnlyList<ExperimentRun>? Runs, bool NotStacked, string? Failure) RunProcess(string method, IReadOnlyList<long> seeds, bool quiet, bool measuring = false)
        {
            var members = seeds.Select(seed =>
            {
                var folder = RunFolder(settings, method, seed);
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
                return new Hosting.HostRunRequest.Member(seed, folder);
            }).ToList();
            var arguments = settings.HostArguments(Request(settings, method, members, coreShare, stackedOnly: measuring));
            var outcome = ChildProcess.Run(settings.Dotnet, arguments, _ => { });
            if (measuring && outcome.ExitCode == Hosting.HostProtocol.ExitNotStacked) return (null, true, null);
            var failure = outcome.ExitCode == 0 ? null : $"exit code {outcome.ExitCode}: {Reason(outcome.Tail)}";
            if (failure is not null && quiet) return (null, false, failure);
            var read = members.Select(member => ExperimentRun.Read(method, member.Seed, member.OutputDirectory, failure)).ToList();
            foreach (var run in read)
            {
                runs.Add(run);
                var count = Interlocked.Increment(ref done);
                log(string.Create(CultureInfo.InvariantCulture,
                    $"{settings.Target}: {count}/{total} {method} seed {run.Seed}: {(run.Failure ?? (run.Diverged ? "diverged" : $"test {run.MetricName} {run.Test:G4}"))} ({run.Seconds:F1} s)"));
            }
            return (read, false, failure);
        }

        // A population that fails (a crash, out of memory) takes its members with it, whatever each
        // would have done alone: its seeds run again one per process, and only then count.
        void RunChunk(string method, long[] seeds)
        {
            if (seeds.Length == 1)
            {
                RunProcess(method, seeds, quiet: false);
                return;
            }
            if (RunProcess(method, seeds, quiet: true) is not { Runs: null, Failure: { } failure }) return;
            log($"TrainTune: {settings.Target}: {method}: the population of {Seeds(seeds)} failed ({failure}); its runs are repeated one per process");
            foreach (var seed in seeds) RunProcess(method, [seed], quiet: false);
        }

        var remaining = settings.Methods.Distinct().ToDictionary(m => m, _ => (IReadOnlyList<long>)[.. Enumerable.Range(1, settings.Inits).Select(s => (long)s)]);
        var known = remaining.Keys.ToDictionary(m => m, m => Known(settings, m));
        // A population that fails while measuring is run again one per process, and only then counted.
        var measured = Measure(settings, remaining.Where(m => known[m.Key] is null).ToDictionary(), (m, seeds, alone) => RunProcess(m, seeds, quiet: !alone, measuring: !alone));
        var choices = new Dictionary<string, PopulationCalibration.Choice>();
        foreach (var method in remaining.Keys.ToList())
        {
            if (measured.TryGetValue(method, out var probe)) remaining[method] = [.. remaining[method].Except(probe.Ran)];
            choices[method] = known[method] ?? probe.Choice;
            log($"TrainTune: {settings.Target}: {method}: {choices[method]}");
        }
        var chunks = Chunks(remaining, m => choices[m].Members, settings.Parallelism);
        Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.Parallelism) }, chunk => RunChunk(chunk.Method, chunk.Seeds));
        return runs.ToList();
    }
}
