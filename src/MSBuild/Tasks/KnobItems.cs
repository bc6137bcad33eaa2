using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TrainTune.Build.Running;

namespace TrainTune.Build.Tasks;

/// <summary>
/// The <c>_TrainTuneKnob</c> items every task receives (the knob's name without the TrainTune
/// prefix, its value in the Value metadata), read into <see cref="BuildKnobs"/>.
/// </summary>
internal static class KnobItems
{
    /// <summary>The knobs; each error is logged with its property's name.</summary>
    public static BuildKnobs Read(ITaskItem[] items, TaskLoggingHelper log)
    {
        var knobs = BuildKnobs.Read(items.ToDictionary(i => i.ItemSpec, i => (string?)i.GetMetadata("Value"), StringComparer.OrdinalIgnoreCase), out var errors);
        foreach (var error in errors) log.LogError(null, BuildCodes.InvalidKnob, null, null, 0, 0, 0, 0, error);
        return knobs;
    }
}
