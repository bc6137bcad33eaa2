using Microsoft.Build.Framework;
using TrainTune.Build.Scheduling;

namespace TrainTune.Build.Tasks;

/// <summary>A host task that may submit to Slurm: the TrainTuneSlurm* knobs, and Ctrl+C cancelling what it submitted.</summary>
public abstract class SlurmHostTask : HostTask, ICancelableTask
{
    readonly CancellationTokenSource _cancel = new();

    public string? SlurmPartition { get; set; }
    public string? SlurmCpus { get; set; }
    public string? SlurmMemory { get; set; }
    public string? SlurmTime { get; set; }
    public string? SlurmConcurrency { get; set; }
    public string? SlurmArguments { get; set; }
    public string? SlurmWait { get; set; }

    /// <summary>Ctrl+C: stops waiting, and cancels a Slurm array the build submitted.</summary>
    public void Cancel() => _cancel.Cancel();

    private protected CancellationToken Cancellation => _cancel.Token;

    private protected SlurmSettings Slurm => SlurmSettings.From(SlurmPartition, SlurmCpus, SlurmMemory, SlurmTime, SlurmConcurrency, SlurmArguments, SlurmWait);
}
