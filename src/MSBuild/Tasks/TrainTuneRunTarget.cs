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
    public bool Resume { get; set; }
    public bool WarmStart { get; set; }
    public int ProgressIntervalSeconds { get; set; } = 5;
    public int CheckpointEvery { get; set; } = 20;

    [Output] public bool Succeeded { get; set; }

    public override bool Execute()
    {
        // The knobs were checked by TrainTuneCheckKnobs before anything ran.
        static string? Knob(string? value) => string.IsNullOrWhiteSpace(value) ? null : value!.Trim();
        var arguments = RunArguments(new Hosting.HostRunRequest(Assembly, Target, OutputDirectory,
            Steps: Knob(Steps) is { } steps ? int.Parse(steps, System.Globalization.CultureInfo.InvariantCulture) : null,
            Method: Knob(Method),
            Seed: Knob(Seed) is { } seed ? long.Parse(seed, System.Globalization.CultureInfo.InvariantCulture) : null,
            Device: Knob(Device),
            Resume: Resume,
            CheckpointEveryBlocks: CheckpointEvery,
            WarmStart: WarmStart,
            Threads: ThreadCount(Threads)));

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
