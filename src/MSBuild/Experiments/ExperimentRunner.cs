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
    /// Members per process: TrainTunePopulation, or so that every core has a process when there
    /// are fewer methods than cores, at most <see cref="MaxMembers"/>.
    /// </summary>
    public static int MembersPerProcess(Settings settings)
    {
        if (settings.Population is { } fixedSize) return Math.Min(fixedSize, settings.Inits);
        var processesPerMethod = (int)Math.Ceiling(Math.Max(1, settings.Parallelism) / (double)Math.Max(1, settings.Methods.Count));
        return Math.Clamp((int)Math.Ceiling(settings.Inits / (double)processesPerMethod), 1, MaxMembers);
    }

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

    public static IReadOnlyList<ExperimentRun> Run(Settings settings, Action<string> log)
    {
        var size = MembersPerProcess(settings);
        var chunks = settings.Methods.SelectMany(m => Enumerable.Range(1, settings.Inits).Select(s => (long)s).Chunk(size).Select(seeds => (Method: m, Seeds: seeds))).ToList();
        var total = settings.Methods.Count * settings.Inits;
        var runs = new ConcurrentBag<ExperimentRun>();
        var done = 0;
        var coreShare = Math.Max(1, Environment.ProcessorCount / Math.Max(1, settings.Parallelism));
        Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.Parallelism) }, chunk =>
        {
            var members = chunk.Seeds.Select(seed =>
            {
                var folder = RunFolder(settings, chunk.Method, seed);
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
                return new Hosting.HostRunRequest.Member(seed, folder);
            }).ToList();
            var arguments = settings.HostArguments(Request(settings, chunk.Method, members, coreShare));
            var outcome = ChildProcess.Run(settings.Dotnet, arguments, _ => { });
            var failure = outcome.ExitCode == 0 ? null : $"exit code {outcome.ExitCode}: {string.Join(" / ", outcome.Tail.TakeLast(3))}";
            foreach (var member in members)
            {
                var run = ExperimentRun.Read(chunk.Method, member.Seed, member.OutputDirectory, failure);
                runs.Add(run);
                var count = Interlocked.Increment(ref done);
                log(string.Create(CultureInfo.InvariantCulture,
                    $"{settings.Target}: {count}/{total} {chunk.Method} seed {member.Seed}: {(run.Failure ?? (run.Diverged ? "diverged" : $"test {run.MetricName} {run.Test:G4}"))} ({run.Seconds:F1} s)"));
            }
        });
        return runs.ToList();
    }
}
