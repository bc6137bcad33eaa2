using Microsoft.Build.Framework;
using TrainTune.Build.Scheduling;

namespace TrainTune.Build.Tasks;

/// <summary>A host task that may submit to Slurm: Ctrl+C cancels what it submitted.</summary>
public abstract class SlurmHostTask : HostTask, ICancelableTask
{
    readonly CancellationTokenSource _cancel = new();

    // Public only because its tasks are; nothing outside this assembly derives from it.
    private protected SlurmHostTask() { }

    /// <summary>Ctrl+C: stops waiting, and cancels a Slurm array the build submitted.</summary>
    public void Cancel() => _cancel.Cancel();

    private protected CancellationToken Cancellation => _cancel.Token;
}
