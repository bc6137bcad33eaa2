using System.Collections.Concurrent;
using System.Globalization;
using TrainTune.Build.Running;

namespace TrainTune.Build.Experiments;

/// <summary>
/// Runs every (method, seed) of one target, each as its own host process, as many at a time as
/// there are cores; each run gets its share of the cores (one each, by default) for the thread
/// policy, and writes into its own folder.
/// </summary>
internal static class ExperimentRunner
{
    public sealed record Settings(string Dotnet, Func<Hosting.HostRunRequest, List<string>> HostArguments, string Assembly, string Target, string TargetDirectory,
        IReadOnlyList<string> Methods, int Inits, string? Steps, string? Device, int? Threads, int Parallelism);

    public static IReadOnlyList<ExperimentRun> Run(Settings settings, Action<string> log)
    {
        var jobs = settings.Methods.SelectMany(m => Enumerable.Range(1, settings.Inits).Select(seed => (Method: m, Seed: (long)seed))).ToList();
        var runs = new ConcurrentBag<ExperimentRun>();
        var done = 0;
        var coreShare = Math.Max(1, Environment.ProcessorCount / Math.Max(1, settings.Parallelism));
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.Parallelism) }, job =>
        {
            var folder = Path.Combine(settings.TargetDirectory, "runs", job.Method, job.Seed.ToString(CultureInfo.InvariantCulture));
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            var arguments = settings.HostArguments(new Hosting.HostRunRequest(settings.Assembly, settings.Target, folder,
                Steps: (int?)KnobValidation.Number(settings.Steps), Method: job.Method, Seed: job.Seed, Device: KnobValidation.Value(settings.Device),
                CheckpointEveryBlocks: 1_000_000, RandomInitial: true, Threads: settings.Threads, Cores: coreShare));
            var outcome = ChildProcess.Run(settings.Dotnet, arguments, _ => { });
            var failure = outcome.ExitCode == 0 ? null : $"exit code {outcome.ExitCode}: {string.Join(" / ", outcome.Tail.TakeLast(3))}";
            var run = ExperimentRun.Read(job.Method, job.Seed, folder, failure);
            runs.Add(run);
            var count = Interlocked.Increment(ref done);
            log(string.Create(CultureInfo.InvariantCulture,
                $"{settings.Target}: {count}/{jobs.Count} {job.Method} seed {job.Seed}: {(failure ?? (run.Diverged ? "diverged" : $"test {run.MetricName} {run.Test:G4}"))} ({run.Seconds:F1} s)"));
        });
        return runs.ToList();
    }
}
