using Microsoft.Build.Utilities;
using TrainTune.Hosting;

namespace TrainTune.Build.Running;

/// <summary>
/// What the build log says of a warm start (TrainTuneWarmStart=true): which file and which values
/// a target starts from, or a warning that its tuned.json cannot be used. The host reads the same
/// file through the same type when the run starts.
/// </summary>
internal static class WarmStartLog
{
    public static void Say(RunKnobs knobs, string targetFolder, string target, TaskLoggingHelper log)
    {
        if (!knobs.WarmStart) return;
        var tuned = TunedFile.ReadFor(targetFolder, target, out var problem);
        if (tuned is not null)
            log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                $"TrainTune: {target} starts from the values tuned by the previous build, read from '{Path.Combine(targetFolder, TunedFile.Name)}': {tuned.Describe()}");
        else if (problem is not null)
            log.LogWarning(null, BuildCodes.WarmStartUnusable, null, null, 0, 0, 0, 0, problem);
        else
            log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, $"TrainTune: {target} has no tuned.json from a previous build; it starts from its own values.");
    }
}
