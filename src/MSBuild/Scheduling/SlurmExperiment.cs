using System.Globalization;
using System.Text.Json;
using TrainTune.Build.Experiments;

namespace TrainTune.Build.Scheduling;

/// <summary>
/// An experiment on Slurm: the runs not yet finished go out as one job array (a task per
/// population, as the local scheduler would run them), the build waits and collects, and a
/// later build collects an array it did not wait for. A finished run is never run again; a
/// failed, cancelled or timed-out task is reported with its Slurm state and the tail of its log,
/// and the next build submits only its runs: one per task where the task failed in itself (a
/// crash, out of memory), since a population takes its members with it whatever each would do alone.
/// </summary>
internal static class SlurmExperiment
{
    /// <summary>The array a build submitted (slurm/job.json), until a build has collected it.</summary>
    sealed record JobState(string JobId, IReadOnlyList<TaskRuns> Tasks, bool Collected, IReadOnlyList<TaskRuns>? RunAlone = null);

    sealed record TaskRuns(string Method, IReadOnlyList<long> Seeds);

    /// <summary>Every run's outcome, or null when the array is still running and the build does not wait.</summary>
    public static IReadOnlyList<ExperimentRun>? Run(ExperimentRunner.Settings settings, SlurmSettings slurm, Action<string> log, CancellationToken cancel)
    {
        var folder = Path.Combine(settings.TargetDirectory, "slurm");
        var statePath = Path.Combine(folder, "job.json");
        var previous = File.Exists(statePath) ? JsonSerializer.Deserialize<JobState>(File.ReadAllText(statePath), Hosting.ProtocolJson.Options) : null;
        if (SlurmCommands.Missing() is { } missing) throw new InvalidOperationException(missing);

        if (previous is { Collected: false })
        {
            log($"{settings.Target}: collecting Slurm job array {previous.JobId}, submitted by an earlier build");
            if (!slurm.Wait && SlurmArray.Queued(previous.JobId).Count > 0)
            {
                log($"{settings.Target}: Slurm job array {previous.JobId} is still running; build again to collect it (TrainTuneSlurmWait=false)");
                return null;
            }
            return WaitAndCollect(settings, folder, statePath, previous, log, cancel);
        }

        var all = settings.Methods.SelectMany(m => Enumerable.Range(1, settings.Inits).Select(s => (Method: m, Seed: (long)s))).ToList();
        var todo = all.Where(r => !Finished(settings, r.Method, r.Seed)).ToList();
        if (todo.Count == 0)
        {
            log($"{settings.Target}: all {all.Count} runs finished in earlier builds; nothing to submit");
            return Read(settings, all, null, null);
        }
        // auto stacks nothing here: what a population gains on the cluster's nodes is not measured on this machine.
        var size = settings.Population is null ? 1 : ExperimentRunner.MembersPerProcess(settings);
        log($"{settings.Target}: {(size == 1 ? "one run" : $"populations of up to {size}")} per task"
            + (settings.Population is null ? " (TrainTunePopulation=auto stacks runs only where it has measured them faster: not on the cluster's nodes; set TrainTunePopulation=N to stack N runs per task)" : ""));
        var alone = (previous?.RunAlone ?? []).SelectMany(t => t.Seeds.Select(seed => (t.Method, Seed: seed))).ToHashSet();
        if (todo.Count(alone.Contains) is > 0 and var again)
            log($"{settings.Target}: {again} runs of tasks that failed go one per task");
        var tasks = todo.GroupBy(r => (r.Method, Alone: alone.Contains(r)))
            .SelectMany(g => g.Select(r => r.Seed).Chunk(g.Key.Alone ? 1 : size).Select(seeds => new TaskRuns(g.Key.Method, seeds))).ToList();
        SlurmArray.CheckCluster(slurm, tasks.Count);
        SlurmArray.ProbeSharedStorage(slurm, folder, settings.Assembly);

        var requests = tasks.Select(task =>
        {
            var members = task.Seeds.Select(seed =>
            {
                var runFolder = ExperimentRunner.RunFolder(settings, task.Method, seed);
                if (Directory.Exists(runFolder)) Directory.Delete(runFolder, recursive: true);
                return new Hosting.HostRunRequest.Member(seed, runFolder);
            }).ToList();
            return ExperimentRunner.Request(settings, task.Method, members, slurm.Cpus).ToJson();
        }).ToList();
        var command = settings.HostArguments(new Hosting.HostRunRequest(settings.Assembly, settings.Target, folder));
        command.RemoveAt(command.Count - 1); // the request: each task reads its own file
        var jobId = SlurmArray.Submit(slurm, folder, $"traintune-{settings.Target}", [settings.Dotnet, .. command], requests);
        var state = new JobState(jobId, tasks, Collected: false);
        Hosting.AtomicFile.WriteAllText(statePath, JsonSerializer.Serialize(state, Hosting.ProtocolJson.Options));
        log(string.Create(CultureInfo.InvariantCulture,
            $"TrainTune: submitted Slurm job array {jobId} for {settings.Target}: {tasks.Count} tasks, {todo.Count} runs ({all.Count - todo.Count} finished earlier), logs in {folder}"));
        if (!slurm.Wait)
        {
            log($"{settings.Target}: not waiting for Slurm job array {jobId} (TrainTuneSlurmWait=false); build again to collect it");
            return null;
        }
        return WaitAndCollect(settings, folder, statePath, state, log, cancel);
    }

    static IReadOnlyList<ExperimentRun> WaitAndCollect(ExperimentRunner.Settings settings, string folder, string statePath, JobState state, Action<string> log, CancellationToken cancel)
    {
        var folders = state.Tasks.SelectMany(t => t.Seeds.Select(s => ExperimentRunner.RunFolder(settings, t.Method, s))).ToList();
        SlurmArray.Wait(state.JobId, queued =>
        {
            var finished = folders.Count(f => File.Exists(Path.Combine(f, Hosting.HostProtocol.ResultFile)));
            // How far the runs still training are, from the last block line of their records.
            var steps = folders.Where(f => !File.Exists(Path.Combine(f, Hosting.HostProtocol.ResultFile)))
                .Select(f => Hosting.RecordFile.ReadBlocks(Path.Combine(f, Hosting.HostProtocol.RecordFile)).LastOrDefault()?.Step ?? 0).Where(s => s > 0).ToList();
            return $"{settings.Target}: Slurm job array {state.JobId}: {SlurmArray.Counts(queued, state.Tasks.Count)}; {finished}/{folders.Count} runs finished"
                + (steps.Count > 0 ? $", {steps.Count} training (at step {steps.Min()}–{steps.Max()})" : "");
        }, log, cancel);
        var failures = new Dictionary<(string, long), string>();
        var runAlone = new List<TaskRuns>();
        for (var k = 0; k < state.Tasks.Count; k++)
        {
            var task = state.Tasks[k];
            var missing = task.Seeds.Where(s => !File.Exists(Path.Combine(ExperimentRunner.RunFolder(settings, task.Method, s), Hosting.HostProtocol.ResultFile))).ToList();
            if (missing.Count == 0) continue;
            var why = SlurmArray.Failure(state.JobId, k, folder);
            foreach (var seed in missing) failures[(task.Method, seed)] = why;
            // A run that failed alone stays alone: grouped again, it would take a population with it.
            if (SlurmArray.FailedInItself(state.JobId, k, folder)) runAlone.Add(task with { Seeds = missing });
        }
        if (runAlone.Count > 0)
            log($"{settings.Target}: {runAlone.Count} task(s) failed in themselves; the next build runs their {runAlone.Sum(t => t.Seeds.Count)} runs one per task");
        Hosting.AtomicFile.WriteAllText(statePath, JsonSerializer.Serialize(state with { Collected = true, RunAlone = runAlone }, Hosting.ProtocolJson.Options));
        var all = settings.Methods.SelectMany(m => Enumerable.Range(1, settings.Inits).Select(s => (Method: m, Seed: (long)s))).ToList();
        return Read(settings, all, failures, log);
    }

    static IReadOnlyList<ExperimentRun> Read(ExperimentRunner.Settings settings, IReadOnlyList<(string Method, long Seed)> runs,
        IReadOnlyDictionary<(string, long), string>? failures, Action<string>? log)
    {
        var results = runs.Select(r => ExperimentRun.Read(r.Method, r.Seed, ExperimentRunner.RunFolder(settings, r.Method, r.Seed),
            failures is not null && failures.TryGetValue((r.Method, r.Seed), out var why) ? why : "not run (no result.json)")).ToList();
        foreach (var run in results.Where(r => r.Failure is null && log is not null))
            log!(string.Create(CultureInfo.InvariantCulture, $"{settings.Target}: {run.Method} seed {run.Seed}: {(run.Diverged ? "diverged" : $"test {run.MetricName} {run.Test:G4}")} ({run.Seconds:F1} s)"));
        return results;
    }

    /// <summary>Whether the run's folder holds the result of this method and seed (and steps, when the build sets them).</summary>
    static bool Finished(ExperimentRunner.Settings settings, string method, long seed)
    {
        var path = Path.Combine(ExperimentRunner.RunFolder(settings, method, seed), Hosting.HostProtocol.ResultFile);
        if (!File.Exists(path)) return false;
        try
        {
            var configuration = Hosting.ResultFile.Read(path).Configuration;
            return string.Equals(configuration.MethodRequested, method, StringComparison.OrdinalIgnoreCase)
                && configuration.Seed == seed
                && (settings.Run.Steps is not { } steps || configuration.Steps == steps);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }
}
