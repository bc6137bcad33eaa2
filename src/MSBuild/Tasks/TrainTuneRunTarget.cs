using Microsoft.Build.Framework;
using TrainTune.Build.Running;

namespace TrainTune.Build.Tasks;

/// <summary>
/// Runs one training target in a child process (a native abort cannot take the build down),
/// relaying its progress to the build log every few seconds. A failure is an error with the
/// exit code and the tail of the process's output.
/// </summary>
public sealed class TrainTuneRunTarget : HostTask
{
    [Required] public string Target { get; set; } = "";
    [Required] public string OutputDirectory { get; set; } = "";
    public string? Steps { get; set; }
    public string? Method { get; set; }
    public string? Seed { get; set; }
    public string? Device { get; set; }
    public string? Threads { get; set; }
    public string? Starts { get; set; }
    public bool Resume { get; set; }
    public bool WarmStart { get; set; }
    public bool TensorBoard { get; set; }
    public int ProgressIntervalSeconds { get; set; } = 5;
    public int CheckpointEvery { get; set; } = 20;

    [Output] public bool Succeeded { get; set; }

    public override bool Execute()
    {
        var arguments = RunArguments(new Hosting.HostRunRequest(Assembly, Target, OutputDirectory,
            Steps: (int?)KnobValidation.Number(Steps), Method: KnobValidation.Value(Method), Seed: KnobValidation.Number(Seed),
            Device: KnobValidation.Value(Device), Resume: Resume, CheckpointEveryBlocks: CheckpointEvery, WarmStart: WarmStart,
            Threads: KnobValidation.Threads(Threads), Starts: (int?)KnobValidation.Number(Starts), TensorBoard: TensorBoard));

        Log.LogMessage(MessageImportance.High, $"TrainTune: running {Target} (output in {OutputDirectory})");
        var progress = new ProgressReporter(Target, TimeSpan.FromSeconds(ProgressIntervalSeconds), () => DateTime.UtcNow);
        var outcome = ChildProcess.Run(DotnetPath, arguments, line =>
        {
            if (progress.Consider(line) is { } message) Log.LogMessage(MessageImportance.High, message);
        });
        Succeeded = outcome.ExitCode == 0;
        if (!Succeeded)
            Log.LogError(null, BuildCodes.TargetFailed, null, null, 0, 0, 0, 0,
                $"Training target {Target} failed with exit code {outcome.ExitCode}. Last lines of its output:\n{string.Join("\n", outcome.Tail)}");
        return Succeeded;
    }
}
