using Microsoft.Build.Framework;

namespace TrainTune.Build.Tasks;

/// <summary>Fails the build with one error per invalid TrainTune* property, before anything runs.</summary>
public sealed class TrainTuneCheckKnobs : Microsoft.Build.Utilities.Task
{
    /// <summary>The <c>_TrainTuneKnob</c> items.</summary>
    [Required] public ITaskItem[] Knobs { get; set; } = [];

    public override bool Execute()
    {
        KnobItems.Read(Knobs, Log);
        return !Log.HasLoggedErrors;
    }
}
