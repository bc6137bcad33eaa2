using System.Diagnostics;
using Microsoft.Build.Framework;
using TrainTune.Build.Experiments;
using TrainTune.Build.Running;

namespace TrainTune.Build.Tasks;

/// <summary>
/// Runs TrainTuneInits random initialisations of every method in TrainTuneMethods for one
/// target, in parallel, and writes results.csv and results.md in the target's folder.
/// </summary>
public sealed class TrainTuneRunExperiment : SlurmHostTask
{
    [Required] public string Target { get; set; } = "";
    [Required] public string OutputDirectory { get; set; } = "";

    /// <summary>The <c>_TrainTuneKnob</c> items.</summary>
    [Required] public ITaskItem[] Knobs { get; set; } = [];

    /// <summary>The project file, for the command line quoted in results.md.</summary>
    public string? Project { get; set; }
    public int Parallelism { get; set; } = Environment.ProcessorCount;

    public override bool Execute()
    {
        var knobs = KnobItems.Read(Knobs, Log);
        if (Log.HasLoggedErrors) return false;
        var methods = knobs.Methods;
        var inits = knobs.Inits ?? 1;
        var stopwatch = Stopwatch.StartNew();
        var settings = new ExperimentRunner.Settings(DotnetPath,
            request => RunArgumentsFor(DepsFile, HostRuntimeConfig, HostAssembly, request), Assembly, Target, OutputDirectory,
            methods, inits, knobs.Run, Parallelism, knobs.Population);
        void Say(string line) => Log.LogMessage(MessageImportance.High, line);
        Say($"TrainTune: {Target}: {inits} initialisations x {methods.Count} methods ({string.Join(", ", methods)}), {Parallelism} processes at a time");
        IReadOnlyList<ExperimentRun>? collected;
        if (knobs.OnSlurm)
        {
            try
            {
                collected = Scheduling.SlurmExperiment.Run(settings, knobs.Slurm, Say, Cancellation);
            }
            catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or IOException)
            {
                Log.LogError(null, BuildCodes.SlurmFailed, null, null, 0, 0, 0, 0, $"{Target}: {e.Message}");
                return false;
            }
            if (collected is null) return true;
        }
        else
            // TrainTunePopulation=auto measures what pays on this machine on the first runs (cached per CPU, target and method).
            collected = ExperimentRunner.Run(settings, Say);
        var runs = collected;
        Directory.CreateDirectory(OutputDirectory);
        Hosting.AtomicFile.WriteAllText(Path.Combine(OutputDirectory, "results.csv"), ExperimentResults.Csv(runs));
        var command = $"dotnet build {Project} -t:TrainTune -p:TrainTuneTargets={Target} -p:TrainTuneInits={inits} -p:TrainTuneMethods={string.Join("%3B", methods)}"
            + (knobs.Run.Steps is { } steps ? $" -p:TrainTuneSteps={steps}" : "");
        var markdown = ExperimentResults.Markdown(Target, runs, command, stopwatch.Elapsed);
        Hosting.AtomicFile.WriteAllText(Path.Combine(OutputDirectory, "results.md"), markdown);
        foreach (var line in markdown.Split('\n').Where(l => l.StartsWith("|"))) Log.LogMessage(MessageImportance.High, "  " + line);
        foreach (var failed in runs.Where(r => r.Failure is not null))
            Log.LogError(null, BuildCodes.ExperimentRunFailed, null, null, 0, 0, 0, 0, $"{Target} {failed.Method} seed {failed.Seed} failed: {failed.Failure}");
        return !Log.HasLoggedErrors;
    }
}
