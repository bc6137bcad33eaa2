using System.Text.Json;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TrainTune.Build.Running;

namespace TrainTune.Build.Tasks;

/// <summary>
/// Asks the host for the project's training targets and selects those named in
/// TrainTuneTargets (all when empty). An unknown name is an error listing the valid ones; a
/// project without targets gets a warning that says how to add one.
/// </summary>
public sealed class TrainTuneListTargets : HostTask
{
    public string? Requested { get; set; }

    [Output] public ITaskItem[] Targets { get; set; } = [];

    public override bool Execute()
    {
        if (!File.Exists(DepsFile) || !File.ReadAllText(DepsFile).Contains("TrainTune.Runtime"))
        {
            Log.LogWarning(null, BuildCodes.NoTrainTuneReference, null, null, 0, 0, 0, 0,
                "This project does not reference TrainTune, so it has no training targets to run; reference the TrainTune package (or src/Runtime) and mark a 'public static TuningRun Name()' method [TrainingTarget].");
            return true;
        }
        var lines = new List<string>();
        var outcome = ChildProcess.Run(DotnetPath, ListArguments(), lines.Add);
        var listing = lines.FirstOrDefault(l => l.StartsWith(Hosting.HostProtocol.TargetsPrefix, StringComparison.Ordinal));
        if (outcome.ExitCode != 0 || listing is null)
        {
            Log.LogError(null, BuildCodes.ListingFailed, null, Assembly, 0, 0, 0, 0,
                $"Listing the training targets of {Assembly} failed (exit code {outcome.ExitCode}):\n{string.Join("\n", outcome.Tail)}");
            return false;
        }
        var available = JsonSerializer.Deserialize<string[]>(listing.Substring(Hosting.HostProtocol.TargetsPrefix.Length)) ?? [];
        if (available.Length == 0)
        {
            Log.LogWarning(null, BuildCodes.NoTargets, null, Assembly, 0, 0, 0, 0,
                "This project has no training targets, so TrainTune has nothing to run. Add one: a 'public static TuningRun Name()' method marked [TrainingTarget].");
            return true;
        }
        var requested = BuildKnobs.SplitNames(Requested);
        var unknown = requested.Where(r => !available.Contains(r)).ToList();
        if (unknown.Count > 0)
        {
            Log.LogError(null, BuildCodes.UnknownTarget, null, null, 0, 0, 0, 0,
                $"TrainTuneTargets names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which {(unknown.Count == 1 ? "is" : "are")} not a training target of this project; the valid ones are: {string.Join(", ", available)}.");
            return false;
        }
        Targets = (requested.Count > 0 ? requested : available).Select(name => (ITaskItem)new TaskItem(name)).ToArray();
        return true;
    }
}
