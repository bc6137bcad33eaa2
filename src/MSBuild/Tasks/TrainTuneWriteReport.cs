using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TrainTune.Build.Reporting;

using TrainTune.Build.Running;

namespace TrainTune.Build.Tasks;

/// <summary>Records the report of a finished target and returns its comparison with the previous run.</summary>
public sealed class TrainTuneWriteReport : Microsoft.Build.Utilities.Task
{
    [Required] public string Target { get; set; } = "";
    [Required] public string TargetDirectory { get; set; } = "";
    [Required] public string HistoryFile { get; set; } = "";

    [Output] public ITaskItem? Comparison { get; set; }

    public override bool Execute()
    {
        try
        {
            var rows = ReportWriter.Write(TargetDirectory, HistoryFile, warning => Log.LogWarning(null, BuildCodes.ReportWarning, null, null, 0, 0, 0, 0, warning));
            Log.LogMessage(MessageImportance.High, $"TrainTune: {Target} report in {Path.Combine(TargetDirectory, Hosting.HostProtocol.ReportMarkdownFile)}");
            var item = new TaskItem(Target);
            item.SetMetadata("Rows", string.Join("\n", rows));
            Comparison = item;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
        {
            Log.LogError(null, BuildCodes.ReportFailed, null, TargetDirectory, 0, 0, 0, 0, $"Cannot record the report of {Target}: {e.Message}");
            return false;
        }
    }
}
