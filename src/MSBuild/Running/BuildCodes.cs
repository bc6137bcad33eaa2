namespace TrainTune.Build.Running;

/// <summary>
/// The codes of the errors and warnings the TrainTune build step reports, in one place (listed in
/// the README). Three are raised where C# cannot reach: TT9001 by the GLIBCXX step that MSBuild
/// compiles itself (inline/GlibcxxCompatibility.cs), TT9002 and TT9003 by TrainTune.targets.
/// </summary>
internal static class BuildCodes
{
    /// <summary>A TrainTune* property has an invalid value.</summary>
    public const string InvalidKnob = "TT9010";

    /// <summary>The host could not list the project's training targets.</summary>
    public const string ListingFailed = "TT9011";

    /// <summary>Warning: the project has no training targets.</summary>
    public const string NoTargets = "TT9012";

    /// <summary>TrainTuneTargets names a target the project does not have.</summary>
    public const string UnknownTarget = "TT9013";

    /// <summary>Warning: the project does not reference TrainTune.</summary>
    public const string NoTrainTuneReference = "TT9014";

    /// <summary>A training target's process failed.</summary>
    public const string TargetFailed = "TT9020";

    /// <summary>Warning: a target's tuned.json cannot be used for a warm start (the target starts from its own values).</summary>
    public const string WarmStartUnusable = "TT9021";

    /// <summary>A target's report could not be written.</summary>
    public const string ReportFailed = "TT9030";

    /// <summary>Warning: about a report (a history line that cannot be read, a diverged run's tuned.json left as it was).</summary>
    public const string ReportWarning = "TT9031";

    /// <summary>A run of an experiment failed.</summary>
    public const string ExperimentRunFailed = "TT9040";

    /// <summary>The Slurm scheduler could not submit or follow a job array (no client, unknown partition, unshared folder, …).</summary>
    public const string SlurmFailed = "TT9050";
}
