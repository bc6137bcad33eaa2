using Microsoft.Build.Framework;

namespace TrainTune.Build.Tasks;

/// <summary>Ends the build log with this run against the previous run of each target.</summary>
public sealed class TrainTuneSummary : Microsoft.Build.Utilities.Task
{
    public ITaskItem[] Comparisons { get; set; } = [];

    public override bool Execute()
    {
        foreach (var comparison in Comparisons)
        {
            Log.LogMessage(MessageImportance.High, $"TrainTune {comparison.ItemSpec}: {"previous",31} -> this run");
            foreach (var row in comparison.GetMetadata("Rows").Split('\n')) Log.LogMessage(MessageImportance.High, "  " + row);
        }
        return true;
    }
}
