using System.Text.RegularExpressions;

namespace TrainTune.Build.Scheduling;

/// <summary>
/// How the build submits to Slurm (the TrainTuneSlurm* knobs): partition (null: the cluster's
/// default), CPUs and memory per array task, time limit, how many tasks may run at once (null:
/// no limit), extra sbatch arguments, and whether the build waits for the array.
/// </summary>
internal sealed record SlurmSettings(string? Partition, int Cpus, string Memory, string Time, int? Concurrency, IReadOnlyList<string> ExtraArguments, bool Wait)
{
    /// <summary>Errors of the scheduler knobs, each naming its property.</summary>
    public static IEnumerable<string> Errors(string? scheduler, string? cpus, string? memory, string? time, string? concurrency, string? wait)
    {
        if (!string.IsNullOrWhiteSpace(scheduler) && scheduler!.Trim().ToLowerInvariant() is not ("local" or "slurm"))
            yield return $"TrainTuneScheduler='{scheduler}' is not a scheduler; use local (the default) or slurm.";
        if (!string.IsNullOrWhiteSpace(cpus) && (!int.TryParse(cpus, out var c) || c < 1))
            yield return $"TrainTuneSlurmCpus='{cpus}' is not a positive whole number of CPUs per array task.";
        if (!string.IsNullOrWhiteSpace(memory) && !Regex.IsMatch(memory!.Trim(), "^[0-9]+[KMGT]?$", RegexOptions.IgnoreCase))
            yield return $"TrainTuneSlurmMemory='{memory}' is not a Slurm memory size; use a number with an optional unit K, M, G or T, e.g. 4G.";
        if (!string.IsNullOrWhiteSpace(time) && !Regex.IsMatch(time!.Trim(), "^([0-9]+|[0-9]+:[0-9]{2}|[0-9]+:[0-9]{2}:[0-9]{2}|[0-9]+-[0-9]+|[0-9]+-[0-9]+:[0-9]{2}|[0-9]+-[0-9]+:[0-9]{2}:[0-9]{2})$"))
            yield return $"TrainTuneSlurmTime='{time}' is not a Slurm time limit; use minutes, HH:MM:SS or D-HH:MM:SS, e.g. 01:00:00.";
        if (!string.IsNullOrWhiteSpace(concurrency) && (!int.TryParse(concurrency, out var m) || m < 1))
            yield return $"TrainTuneSlurmConcurrency='{concurrency}' is not a positive whole number of array tasks at once.";
        if (!string.IsNullOrWhiteSpace(wait) && !bool.TryParse(wait, out _))
            yield return $"TrainTuneSlurmWait='{wait}' is not true or false.";
    }

    public static bool IsSlurm(string? scheduler) => string.Equals(scheduler?.Trim(), "slurm", StringComparison.OrdinalIgnoreCase);

    /// <summary>The settings from knobs already checked by <see cref="Errors"/>.</summary>
    public static SlurmSettings From(string? partition, string? cpus, string? memory, string? time, string? concurrency, string? extra, string? wait) => new(
        string.IsNullOrWhiteSpace(partition) ? null : partition!.Trim(),
        int.TryParse(cpus, out var c) ? c : 1,
        string.IsNullOrWhiteSpace(memory) ? "4G" : memory!.Trim(),
        string.IsNullOrWhiteSpace(time) ? "01:00:00" : time!.Trim(),
        int.TryParse(concurrency, out var m) ? m : null,
        string.IsNullOrWhiteSpace(extra) ? [] : extra!.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        !bool.TryParse(wait, out var w) || w);
}
