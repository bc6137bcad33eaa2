using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TrainTune.Build.Scheduling;

/// <summary>
/// One Slurm job array of host runs: task k runs the host on the request file task-k.json in the
/// array's folder and logs to task-k.log there. Checks the cluster and the shared folder before
/// submitting, and reads back what became of each task.
/// </summary>
internal static class SlurmArray
{
    /// <summary>What Slurm says of a task that has left the queue: its state (COMPLETED, FAILED, CANCELLED, TIMEOUT, …), exit code and reason.</summary>
    public sealed record TaskEnd(string State, string ExitCode, string Reason);

    /// <summary>Refuses a cluster the array cannot run on, saying what to change.</summary>
    public static void CheckCluster(SlurmSettings settings, int tasks)
    {
        if (SlurmCommands.Missing() is { } missing) throw new InvalidOperationException(missing);
        var partitions = SlurmCommands.Checked("sinfo", "-h", "-o", "%P").Select(p => p.Trim().TrimEnd('*')).Where(p => p.Length > 0).Distinct().ToList();
        if (settings.Partition is { } partition && !partitions.Contains(partition))
            throw new InvalidOperationException($"TrainTuneSlurmPartition='{partition}' is not a partition of this cluster; sinfo lists: {string.Join(", ", partitions)}.");
        var config = SlurmCommands.Checked("scontrol", "show", "config");
        var max = config.Select(l => Regex.Match(l, @"^MaxArraySize\s*=\s*(\d+)")).FirstOrDefault(m => m.Success) is { } found ? int.Parse(found.Groups[1].Value, CultureInfo.InvariantCulture) : 1001;
        if (tasks > max - 1)
            throw new InvalidOperationException($"The job array would have {tasks} tasks, more than this cluster's MaxArraySize ({max}) allows; put more runs in each task with a larger -p:TrainTunePopulation.");
    }

    /// <summary>
    /// Runs a tiny task that writes a file into <paramref name="folder"/> when it can read
    /// <paramref name="assembly"/> (the project's build output, which the tasks run); when the
    /// build cannot see the file, the two are not shared with the compute nodes.
    /// </summary>
    public static void ProbeSharedStorage(SlurmSettings settings, string folder, string assembly)
    {
        Directory.CreateDirectory(folder);
        var probe = Path.Combine(folder, $".traintune-probe-{Guid.NewGuid():N}");
        var arguments = new List<string> { "--parsable", "--wait", "--job-name", "traintune-probe", "--time", "00:05:00", "--cpus-per-task", "1", "--mem", "64M", "--output", "/dev/null" };
        if (settings.Partition is { } partition) arguments.AddRange(["--partition", partition]);
        arguments.AddRange(["--wrap", $"test -r {Quote(assembly)} && touch {Quote(probe)}"]);
        var (exit, lines) = SlurmCommands.Run("sbatch", [.. arguments]);
        var seen = File.Exists(probe);
        if (seen) File.Delete(probe);
        if (exit != 0 && !seen)
            throw new InvalidOperationException($"A probe task could not run on the cluster (sbatch exit code {exit}: {string.Join(" / ", lines.TakeLast(3))}).");
        if (!seen)
            throw new InvalidOperationException($"The compute nodes do not share this build's files: a probe task that reads '{assembly}' and writes into '{folder}' left nothing this machine can see. Put the project and -p:TrainTuneOutputDir on storage the nodes mount (not /tmp).");
    }

    /// <summary>Writes the requests and the array's script into <paramref name="folder"/> and submits; returns the job id.</summary>
    /// <param name="command">The host command up to its request: dotnet exec … TrainTune.Host.dll run.</param>
    public static string Submit(SlurmSettings settings, string folder, string jobName, IReadOnlyList<string> command, IReadOnlyList<string> requests)
    {
        Directory.CreateDirectory(folder);
        foreach (var stale in Directory.GetFiles(folder, "task-*")) File.Delete(stale);
        for (var k = 0; k < requests.Count; k++) Hosting.AtomicFile.WriteAllText(Path.Combine(folder, $"task-{k}.json"), requests[k]);
        var script = new StringBuilder("#!/bin/sh\n# A TrainTune job array: task k runs the host on task-k.json.\n")
            .Append("exec ").Append(string.Join(" ", command.Select(Quote)))
            .Append(' ').Append('"').Append('@').Append(folder.Replace("\"", "\\\"")).Append("/task-${SLURM_ARRAY_TASK_ID}.json\"\n").ToString();
        var scriptPath = Path.Combine(folder, "array.sh");
        Hosting.AtomicFile.WriteAllText(scriptPath, script);
        var arguments = new List<string>
        {
            "--parsable", "--job-name", jobName,
            "--array", $"0-{requests.Count - 1}" + (settings.Concurrency is { } m ? $"%{m}" : ""),
            "--cpus-per-task", settings.Cpus.ToString(CultureInfo.InvariantCulture), "--mem", settings.Memory, "--time", settings.Time,
            "--output", Path.Combine(folder, "task-%a.log"),
        };
        if (settings.Partition is { } partition) arguments.AddRange(["--partition", partition]);
        arguments.AddRange(settings.ExtraArguments);
        arguments.Add(scriptPath);
        var lines = SlurmCommands.Checked("sbatch", [.. arguments]);
        return lines.FirstOrDefault(l => l.Trim().Length > 0)?.Trim().Split(';')[0]
            ?? throw new InvalidOperationException("sbatch printed no job id.");
    }

    /// <summary>The array's tasks still in the queue, with their state (PENDING, RUNNING, …).</summary>
    public static IReadOnlyDictionary<int, string> Queued(string jobId)
    {
        var (exit, lines) = SlurmCommands.Run("squeue", "-h", "-r", "-j", jobId, "-o", "%K %T");
        if (exit != 0) return new Dictionary<int, string>(); // the job is no longer known
        var queued = new Dictionary<int, string>();
        foreach (var line in lines)
        {
            var parts = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], out var task)) queued[task] = parts[1];
        }
        return queued;
    }

    /// <summary>What became of task <paramref name="task"/>, or null when Slurm no longer knows.</summary>
    public static TaskEnd? End(string jobId, int task)
    {
        var (exit, lines) = SlurmCommands.Run("scontrol", "-o", "show", "job", $"{jobId}_{task}");
        if (exit != 0) return null;
        var text = string.Join(" ", lines);
        string Field(string name) => Regex.Match(text, $@"\b{name}=(\S+)") is { Success: true } m ? m.Groups[1].Value : "?";
        return new TaskEnd(Field("JobState"), Field("ExitCode"), Field("Reason"));
    }

    public static void Cancel(string jobId) => SlurmCommands.Run("scancel", jobId);

    /// <summary>
    /// Waits until no task of the array is queued, logging <paramref name="summary"/> of the queue
    /// when it changes (every 5 s at most) and once at the end; cancelling cancels the array.
    /// </summary>
    public static void Wait(string jobId, Func<IReadOnlyDictionary<int, string>, string> summary, Action<string> log, CancellationToken cancel)
    {
        var last = "";
        var lastTime = DateTime.MinValue;
        while (true)
        {
            if (cancel.IsCancellationRequested)
            {
                Cancel(jobId);
                throw new OperationCanceledException($"The build was cancelled; Slurm job array {jobId} is cancelled.");
            }
            var queued = Queued(jobId);
            var line = summary(queued);
            if (queued.Count == 0) { log(line); return; }
            if (line != last && DateTime.UtcNow - lastTime > TimeSpan.FromSeconds(5))
            {
                log(line);
                (last, lastTime) = (line, DateTime.UtcNow);
            }
            cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>Why task <paramref name="task"/> left no result: its Slurm state, exit code and reason, and the tail of its log.</summary>
    public static string Failure(string jobId, int task, string folder)
    {
        var end = End(jobId, task);
        var started = File.Exists(Path.Combine(folder, $"task-{task}.log"));
        // Slurm forgets a pending task that is cancelled; one that never started has no log.
        var what = end is not null ? $"{end.State} (exit code {end.ExitCode}, reason {end.Reason})"
            : started ? "ended without a result, and Slurm no longer lists it" : "CANCELLED before it started (Slurm no longer lists it and it wrote no log)";
        return $"Slurm task {jobId}_{task} {what}: {(started ? "log: " + LogTail(folder, task) : "no log")}; build again to run it again";
    }

    /// <summary>
    /// Whether task <paramref name="task"/> ended by failing in itself (a non-zero exit, out of
    /// memory, or an end Slurm no longer lists after it started) rather than being cancelled or
    /// timed out, which says nothing about how its runs were grouped.
    /// </summary>
    public static bool FailedInItself(string jobId, int task, string folder) =>
        End(jobId, task) is { } end
            ? end.State is "FAILED" or "OUT_OF_MEMORY" or "NODE_FAIL"
            : File.Exists(Path.Combine(folder, $"task-{task}.log"));

    /// <summary>"k/n tasks done, r running, p pending" of a queue.</summary>
    public static string Counts(IReadOnlyDictionary<int, string> queued, int tasks, string what = "tasks")
    {
        var running = queued.Values.Count(v => v == "RUNNING");
        return $"{tasks - queued.Count}/{tasks} {what} done, {running} running, {queued.Count - running} pending";
    }

    /// <summary>The host's error line in task <paramref name="task"/>'s log (a stack trace follows it), else its last lines.</summary>
    public static string LogTail(string folder, int task, int lines = 3)
    {
        var path = Path.Combine(folder, $"task-{task}.log");
        if (!File.Exists(path)) return "no log";
        var all = File.ReadLines(path).Where(l => l.Trim().Length > 0).ToList();
        return all.FirstOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal)) is { } error
            ? error.Length > 400 ? error[..400] + "…" : error
            : string.Join(" / ", all.TakeLast(lines));
    }

    static string Quote(string argument) => "'" + argument.Replace("'", "'\\''") + "'";
}
