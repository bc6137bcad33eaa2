using Microsoft.Build.Framework;
using TrainTune.Build.Running;
using TrainTune.Build.Scheduling;

namespace TrainTune.Build.Tasks;

/// <summary>
/// TrainTuneScheduler=slurm without an experiment: every training target as one task of one
/// Slurm job array; the targets that finished are the output, for their reports.
/// </summary>
public sealed class TrainTuneRunTargetsOnSlurm : SlurmHostTask
{
    [Required] public ITaskItem[] Targets { get; set; } = [];

    /// <summary>The <c>_TrainTuneKnob</c> items.</summary>
    [Required] public ITaskItem[] Knobs { get; set; } = [];

    [Output] public ITaskItem[] Finished { get; set; } = [];

    public override bool Execute()
    {
        var knobs = KnobItems.Read(Knobs, Log);
        if (Log.HasLoggedErrors) return false;
        var slurm = knobs.Slurm;
        var outputDirectory = knobs.OutputDirectory;
        // A Slurm task runs to the end: no checkpoints, nothing to resume.
        Hosting.HostRunRequest Request(string target) => new(Assembly, target, Path.Combine(outputDirectory, target),
            knobs.Run with { Resume = false, CheckpointEveryBlocks = 1_000_000 }, Cores: slurm.Cpus);
        foreach (var target in Targets) WarmStartLog.Say(knobs.Run, Path.Combine(outputDirectory, target.ItemSpec), target.ItemSpec, Log);
        try
        {
            var finished = SlurmTargets.Run(Targets.Select(t => t.ItemSpec).ToList(), outputDirectory, Assembly, Request,
                request => RunArgumentsFor(DepsFile, HostRuntimeConfig, HostAssembly, request), DotnetPath, slurm,
                line => Log.LogMessage(MessageImportance.High, line),
                message => Log.LogError(null, BuildCodes.TargetFailed, null, null, 0, 0, 0, 0, message), Cancellation);
            Finished = finished.Select(t => (ITaskItem)new Microsoft.Build.Utilities.TaskItem(t)).ToArray();
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or IOException)
        {
            Log.LogError(null, BuildCodes.SlurmFailed, null, null, 0, 0, 0, 0, e.Message);
        }
        return !Log.HasLoggedErrors;
    }
}
