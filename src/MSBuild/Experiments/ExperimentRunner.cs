using System.Collections.Concurrent;
using System.Globalization;
using TrainTune.Build.Running;

namespace TrainTune.Build.Experiments;

/// <summary>
/// Runs every (method, seed) of one target: the seeds of a method in populations (one host
/// process each, the members trained together), as many processes at a time as there are
/// cores; each process gets its share of the cores for the thread policy, and each run writes
/// into its own folder.
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
    /// Steps of the short and the long calibration run of each size (at most the experiment's
    /// own): the time per step is their difference over the extra steps, so what a process spends
    /// once (JIT compilation, libtorch's first calls; more than a short run's steps on UCI Energy)
    /// cancels out.
    /// </summary>
    public const int CalibrationSteps = 200;

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
    /// Members per process for each method, and why: TrainTunePopulation as given, or with auto
    /// what <see cref="PopulationCalibration"/> measured on this machine (at most <see cref="MembersPerProcess"/>).
    /// </summary>
    public static IReadOnlyDictionary<string, PopulationCalibration.Choice> Choose(Settings settings) =>
        settings.Methods.Distinct().ToDictionary(m => m, method =>
        {
            var bound = MembersPerProcess(settings);
            if (settings.Population is not null)
                return new PopulationCalibration.Choice(bound, $"TrainTunePopulation={settings.Population}");
            if (bound < 2)
                return new PopulationCalibration.Choice(1, "auto: one initialisation per process already fills the cores");
            if (Hosting.MethodCatalogue.Find(method) is { Stacks: false })
                return new PopulationCalibration.Choice(1, $"auto: {method} does not stack its runs");
            var key = PopulationCalibration.Key(settings.Assembly, settings.Target, method, CoreShare(settings));
            return PopulationCalibration.Choose(settings.TargetDirectory, key, bound, members => Calibrate(settings, method, members));
        });

    /// <summary>
    /// Milliseconds per member-step of <paramref name="members"/> of <paramref name="method"/>
    /// (seeds 1…n), from a short and a long run in host processes of their own, as the runs'
    /// result.json tell them; throws <see cref="InvalidOperationException"/> when a process fails
    /// or, for a population, when the model was not stacked.
    /// </summary>
    static double Calibrate(Settings settings, string method, int members)
    {
        var root = Path.Combine(settings.TargetDirectory, "calibration");
        var folder = Path.Combine(root, string.Create(CultureInfo.InvariantCulture, $"{method}-{members}"));
        try
        {
            var total = settings.Run.Steps ?? int.MaxValue;
            var (shortRun, longRun) = (Math.Min(total / 3, CalibrationSteps), Math.Min(total, 3 * CalibrationSteps));
            if (shortRun < 1) throw new InvalidOperationException($"{total} steps are too few to time");
            return (Seconds(longRun) - Seconds(shortRun)) * 1000 / (longRun - shortRun);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            if (Directory.Exists(root) && !Directory.EnumerateFileSystemEntries(root).Any()) Directory.Delete(root);
        }

        // A member's seconds: its share of its population's, or its single run's.
        double Seconds(int steps)
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            var calibration = settings with { Run = settings.Run with { Steps = steps } };
            var seeds = Enumerable.Range(1, members).Select(s => new Hosting.HostRunRequest.Member(s, Path.Combine(folder, s.ToString(CultureInfo.InvariantCulture)))).ToList();
            var outcome = ChildProcess.Run(settings.Dotnet, settings.HostArguments(Request(calibration, method, seeds, CoreShare(settings))), _ => { });
            var path = Path.Combine(seeds[0].OutputDirectory, Hosting.HostProtocol.ResultFile);
            if (outcome.ExitCode != 0 || !File.Exists(path))
                throw new InvalidOperationException($"{members} member(s) of {method}: exit code {outcome.ExitCode}: {string.Join(" / ", outcome.Tail.TakeLast(2))}");
            var file = Hosting.ResultFile.Read(path);
            if (members > 1 && file.Configuration.Note?.Contains("of a population", StringComparison.Ordinal) != true)
                throw new InvalidOperationException($"the model of {settings.Target} is not stacked as a population, so its runs gain nothing from sharing a process");
            // A single run that diverges stops early: its time per step says nothing about the full length.
            if (members == 1 && file.Result.StepsCompleted < steps)
                throw new InvalidOperationException($"seed 1 of {method} stopped at step {file.Result.StepsCompleted} of {steps}");
            return file.Result.Seconds;
        }
    }

    /// <summary>
    /// The seeds of every method cut into processes of at most each method's size, as evenly as
    /// possible and into a multiple of <paramref name="parallelism"/> processes where that does not
    /// need more of them per method than seeds, so that the last round of processes is not one
    /// process alone (200 seeds in 16s: 13 processes, 7 rounds with one core idle in the last;
    /// in 14 processes of 14–15, every round is full).
    /// </summary>
    public static List<(string Method, long[] Seeds)> Chunks(IReadOnlyList<string> methods, int inits, Func<string, int> size, int parallelism)
    {
        var counts = methods.ToDictionary(m => m, m => (int)Math.Ceiling(inits / (double)Math.Max(1, size(m))));
        var round = Math.Max(1, parallelism);
        foreach (var method in methods.OrderByDescending(size))
        {
            if (counts.Values.Sum() % round == 0) break;
            var add = Math.Min(round - counts.Values.Sum() % round, inits - counts[method]);
            if (size(method) > 1 && add > 0) counts[method] += add;
        }
        return [.. methods.SelectMany(m => Split(inits, counts[m]).Select(seeds => (m, seeds)))];
    }

    /// <summary>Seeds 1…<paramref name="inits"/> in <paramref name="parts"/> contiguous parts whose sizes differ by at most one.</summary>
    static IEnumerable<long[]> Split(int inits, int parts)
    {
        var start = 1;
        for (var k = 0; k < parts; k++)
        {
            var length = inits / parts + (k < inits % parts ? 1 : 0);
            yield return [.. Enumerable.Range(start, length).Select(s => (long)s)];
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

    public static IReadOnlyList<ExperimentRun> Run(Settings settings, IReadOnlyDictionary<string, PopulationCalibration.Choice> choices, Action<string> log)
    {
        var chunks = Chunks(settings.Methods, settings.Inits, m => choices[m].Members, settings.Parallelism);
        var total = settings.Methods.Count * settings.Inits;
        var runs = new ConcurrentBag<ExperimentRun>();
        var done = 0;
        var coreShare = CoreShare(settings);
        Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.Parallelism) }, chunk =>
        {
            var (method, seeds) = chunk;
            var members = seeds.Select(seed =>
            {
                var folder = RunFolder(settings, method, seed);
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
                return new Hosting.HostRunRequest.Member(seed, folder);
            }).ToList();
            var arguments = settings.HostArguments(Request(settings, method, members, coreShare));
            var outcome = ChildProcess.Run(settings.Dotnet, arguments, _ => { });
            var failure = outcome.ExitCode == 0 ? null : $"exit code {outcome.ExitCode}: {string.Join(" / ", outcome.Tail.TakeLast(3))}";
            foreach (var member in members)
            {
                var run = ExperimentRun.Read(method, member.Seed, member.OutputDirectory, failure);
                runs.Add(run);
                var count = Interlocked.Increment(ref done);
                log(string.Create(CultureInfo.InvariantCulture,
                    $"{settings.Target}: {count}/{total} {method} seed {member.Seed}: {(run.Failure ?? (run.Diverged ? "diverged" : $"test {run.MetricName} {run.Test:G4}"))} ({run.Seconds:F1} s)"));
            }
        });
        return runs.ToList();
    }
}
