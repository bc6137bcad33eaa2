using Microsoft.Build.Framework;
using TrainTune.Build.Running;

namespace TrainTune.Build.Tasks;

/// <summary>Fails the build with one error per invalid TrainTune* property, before anything runs.</summary>
public sealed class TrainTuneCheckKnobs : Microsoft.Build.Utilities.Task
{
    public string? Steps { get; set; }
    public string? Method { get; set; }
    public string? Methods { get; set; }
    public string? Inits { get; set; }
    public string? Population { get; set; }
    public string? Starts { get; set; }
    public string? TensorBoard { get; set; }
    public string? Scheduler { get; set; }
    public string? SlurmCpus { get; set; }
    public string? SlurmMemory { get; set; }
    public string? SlurmTime { get; set; }
    public string? SlurmConcurrency { get; set; }
    public string? SlurmWait { get; set; }
    public string? Seed { get; set; }
    public string? Device { get; set; }
    public string? Resume { get; set; }
    public string? WarmStart { get; set; }
    public string? OutputDirectory { get; set; }
    public string? Threads { get; set; }

    public override bool Execute()
    {
        foreach (var error in KnobValidation.Errors(Steps, Method, Seed, Device, Resume, WarmStart, OutputDirectory, Threads, Starts, TensorBoard).Concat(KnobValidation.ExperimentErrors(Inits, Methods, Population))
            .Concat(Scheduling.SlurmSettings.Errors(Scheduler, SlurmCpus, SlurmMemory, SlurmTime, SlurmConcurrency, SlurmWait)))
            Log.LogError(null, BuildCodes.InvalidKnob, null, null, 0, 0, 0, 0, error);
        return !Log.HasLoggedErrors;
    }
}
