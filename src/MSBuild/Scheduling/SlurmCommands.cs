using TrainTune.Build.Running;

namespace TrainTune.Build.Scheduling;

/// <summary>The Slurm client commands (sbatch, squeue, scontrol, scancel, sinfo), run as processes.</summary>
internal static class SlurmCommands
{
    /// <summary>Why the Slurm client cannot be used here, or null.</summary>
    public static string? Missing()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var tool in new[] { "sbatch", "squeue", "scontrol", "scancel", "sinfo" })
            if (!path.Split(Path.PathSeparator).Any(folder => folder.Length > 0 && File.Exists(Path.Combine(folder, tool))))
                return $"TrainTuneScheduler=slurm needs the Slurm client commands, and '{tool}' is not on the PATH: install them (Debian and Ubuntu: apt-get install slurm-client; tools/slurm/local-cluster.sh start sets up a one-node cluster) or run on a machine of the cluster.";
        return null;
    }

    /// <summary>Runs <paramref name="tool"/>; its exit code and every line of its output.</summary>
    public static (int ExitCode, IReadOnlyList<string> Lines) Run(string tool, params string[] arguments)
    {
        var outcome = ChildProcess.Run(tool, arguments, _ => { }, tailLines: 100_000);
        return (outcome.ExitCode, outcome.Tail);
    }

    /// <summary>As <see cref="Run"/>; a failure is an <see cref="InvalidOperationException"/> with the command and its output.</summary>
    public static IReadOnlyList<string> Checked(string tool, params string[] arguments)
    {
        var (exit, lines) = Run(tool, arguments);
        if (exit != 0)
            throw new InvalidOperationException($"'{tool} {string.Join(" ", arguments)}' failed with exit code {exit}: {string.Join(" / ", lines.TakeLast(5))}");
        return lines;
    }
}
