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
    [Required] public string OutputDirectory { get; set; } = "";
    public string? Steps { get; set; }
    public string? Method { get; set; }
    public string? Seed { get; set; }
    public string? Device { get; set; }
    public string? Threads { get; set; }
    public string? Starts { get; set; }
    public bool WarmStart { get; set; }
    public bool TensorBoard { get; set; }

    [Output] public ITaskItem[] Finished { get; set; } = [];

    public override bool Execute()
    {
        var slurm = Slurm;
        Hosting.HostRunRequest Request(string target) => new(Assembly, target, Path.Combine(OutputDirectory, target),
            Steps: (int?)KnobValidation.Number(Steps), Method: KnobValidation.Value(Method), Seed: KnobValidation.Number(Seed),
            Device: KnobValidation.Value(Device), CheckpointEveryBlocks: 1_000_000, WarmStart: WarmStart,
            Threads: KnobValidation.Threads(Threads), Cores: slurm.Cpus, Starts: (int?)KnobValidation.Number(Starts), TensorBoard: TensorBoard);
        try
        {
            var finished = SlurmTargets.Run(Targets.Select(t => t.ItemSpec).ToList(), OutputDirectory, Assembly, Request,
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
