using System.Globalization;
using System.Text.Json;

namespace TrainTune.Build.Scheduling;

/// <summary>
/// A multi-target build on Slurm: one job array, a task per training target, each writing its
/// target's folder as a local run would; the build waits, then writes the reports as usual. A
/// later build collects an array it did not wait for; after a failure, the same build again
/// (the same assembly) submits only the targets that failed.
/// </summary>
internal static class SlurmTargets
{
    sealed record JobState(string JobId, IReadOnlyList<string> Targets, DateTime AssemblyTime, bool Collected, IReadOnlyList<string>? Failed);

    /// <summary>The targets that finished (their result.json is there); the others are errors through <paramref name="error"/>.</summary>
    public static IReadOnlyList<string> Run(IReadOnlyList<string> targets, string outputDirectory, string assembly, Func<string, Hosting.HostRunRequest> request,
        Func<Hosting.HostRunRequest, List<string>> hostArguments, string dotnet, SlurmSettings slurm, Action<string> log, Action<string> error, CancellationToken cancel)
    {
        if (SlurmCommands.Missing() is { } missing) throw new InvalidOperationException(missing);
        var folder = Path.Combine(outputDirectory, "slurm");
        var statePath = Path.Combine(folder, "job.json");
        var previous = File.Exists(statePath) ? JsonSerializer.Deserialize<JobState>(File.ReadAllText(statePath), Hosting.ProtocolJson.Options) : null;
        var assemblyTime = File.GetLastWriteTimeUtc(assembly);
        string ResultOf(string target) => Path.Combine(outputDirectory, target, Hosting.HostProtocol.ResultFile);

        if (previous is { Collected: false })
        {
            log($"TrainTune: collecting Slurm job array {previous.JobId}, submitted by an earlier build");
            if (!slurm.Wait && SlurmArray.Queued(previous.JobId).Count > 0)
            {
                log($"TrainTune: Slurm job array {previous.JobId} is still running; build again to collect it (TrainTuneSlurmWait=false)");
                return [];
            }
            return Collect(previous, folder, statePath, ResultOf, log, error, cancel);
        }

        // After a failure, the same assembly again: only the targets that failed.
        var todo = previous is { Failed.Count: > 0 } && previous.AssemblyTime == assemblyTime
            ? targets.Where(t => previous.Failed!.Contains(t) || !File.Exists(ResultOf(t))).ToList()
            : targets.ToList();
        if (todo.Count == 0) return targets;
        SlurmArray.CheckCluster(slurm, todo.Count);
        SlurmArray.ProbeSharedStorage(slurm, folder, assembly);
        foreach (var target in todo)
            if (File.Exists(ResultOf(target))) File.Delete(ResultOf(target));
        var command = hostArguments(request(todo[0]));
        command.RemoveAt(command.Count - 1); // the request: each task reads its own file
        var jobId = SlurmArray.Submit(slurm, folder, "traintune-targets", [dotnet, .. command], todo.Select(t => request(t).ToJson()).ToList());
        var state = new JobState(jobId, todo, assemblyTime, Collected: false, Failed: null);
        Hosting.AtomicFile.WriteAllText(statePath, JsonSerializer.Serialize(state, Hosting.ProtocolJson.Options));
        log(string.Create(CultureInfo.InvariantCulture,
            $"TrainTune: submitted Slurm job array {jobId}: {todo.Count} targets ({string.Join(", ", todo)}){(todo.Count < targets.Count ? $", {targets.Count - todo.Count} finished earlier" : "")}, logs in {folder}"));
        if (!slurm.Wait)
        {
            log($"TrainTune: not waiting for Slurm job array {jobId} (TrainTuneSlurmWait=false); build again to collect it and write the reports");
            return [];
        }
        return Collect(state, folder, statePath, ResultOf, log, error, cancel);
    }

    static IReadOnlyList<string> Collect(JobState state, string folder, string statePath, Func<string, string> resultOf, Action<string> log, Action<string> error, CancellationToken cancel)
    {
        SlurmArray.Wait(state.JobId, queued => $"TrainTune: Slurm job array {state.JobId}: {SlurmArray.Counts(queued, state.Targets.Count, "targets")}", log, cancel);
        var failed = new List<string>();
        for (var k = 0; k < state.Targets.Count; k++)
        {
            if (File.Exists(resultOf(state.Targets[k]))) continue;
            failed.Add(state.Targets[k]);
            error($"Training target {state.Targets[k]} failed: {SlurmArray.Failure(state.JobId, k, folder)}.");
        }
        Hosting.AtomicFile.WriteAllText(statePath, JsonSerializer.Serialize(state with { Collected = true, Failed = failed }, Hosting.ProtocolJson.Options));
        return state.Targets.Where(t => !failed.Contains(t)).ToList();
    }
}
