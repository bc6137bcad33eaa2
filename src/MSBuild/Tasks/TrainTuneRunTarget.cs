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

    /// <summary>The <c>_TrainTuneKnob</c> items.</summary>
    [Required] public ITaskItem[] Knobs { get; set; } = [];

    [Output] public bool Succeeded { get; set; }

    public override bool Execute()
    {
        var knobs = KnobItems.Read(Knobs, Log);
        if (Log.HasLoggedErrors) return false;
        WarmStartLog.Say(knobs.Run, OutputDirectory, Target, Log);
        var arguments = RunArguments(new Hosting.HostRunRequest(Assembly, Target, OutputDirectory, knobs.Run));

        Log.LogMessage(MessageImportance.High, $"TrainTune: running {Target} (output in {OutputDirectory})");
        var progress = new ProgressReporter(Target, TimeSpan.FromSeconds(knobs.ProgressIntervalSeconds), () => DateTime.UtcNow);
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
