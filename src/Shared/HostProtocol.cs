// Shared by the host (TrainTune.Runtime) and the MSBuild tasks, which must not load TorchSharp.
namespace TrainTune.Hosting
{
    /// <summary>What the host child process and the build agree on.</summary>
    internal static class HostProtocol
    {
        /// <summary>Prefix of a progress line on the host's standard output; JSON follows.</summary>
        public const string ProgressPrefix = "traintune-progress ";

        /// <summary>Prefix of the line that lists the training targets (JSON array of names).</summary>
        public const string TargetsPrefix = "traintune-targets ";

        /// <summary>Files of one target's output folder.</summary>
        public const string RecordFile = "record.jsonl";
        public const string ResultFile = "result.json";
        public const string CheckpointFile = "checkpoint.bin";
        public const string ReportMarkdownFile = "report.md";
        public const string ReportJsonFile = "report.json";
        public const string TunedFile = Hosting.TunedFile.Name;
        public const string LossPlotFile = "losses.svg";
        public const string HyperparameterPlotFile = "hyperparameters.svg";
        public const string HistoryFile = "history.jsonl";
        public const string TensorBoardFolder = "tensorboard";

        /// <summary>The record of start <paramref name="start"/> of a multi-start run (Method.BestOf), beside its record.jsonl.</summary>
        public static string StartRecordFile(int start) => $"record-start-{start}.jsonl";

        /// <summary>
        /// The methods the build may name in TrainTuneMethod (checked before anything runs), the one
        /// list of them: the runtime's ExperimentProtocol maps each to what it does.
        /// </summary>
        public static readonly string[] Methods =
        {
            MethodName.OnePass, MethodName.Fixed, MethodName.Random, MethodName.RandomLrMultiplier, MethodName.Random3Batched, MethodName.Lorraine,
            MethodName.Baydin, MethodName.OursWdLr, MethodName.OursWdLrM, MethodName.OursWdHdlrM, MethodName.DiffThroughOpt, MethodName.BayesOpt,
            MethodName.ScheduleFree, MethodName.Prodigy, MethodName.DAdaptation, MethodName.DoG, MethodName.OursProdigy, MethodName.OursScheduleFree,
        };

        /// <summary>The methods that bring their own update rule and start from its defaults (the learning-rate-free optimisers): no random initial values.</summary>
        public static readonly string[] OwnRule =
        {
            MethodName.ScheduleFree, MethodName.Prodigy, MethodName.DAdaptation, MethodName.DoG, MethodName.OursProdigy, MethodName.OursScheduleFree,
        };

        /// <summary>The methods that search over several whole runs; they keep no checkpoint to resume from.</summary>
        public static readonly string[] Searches = { MethodName.Random3Batched, MethodName.BayesOpt };

        /// <summary>Exit codes of the host.</summary>
        public const int ExitOk = 0, ExitBadInput = 2, ExitFailure = 3;
    }

    /// <summary>The method names, each written once.</summary>
    internal static class MethodName
    {
        public const string OnePass = nameof(OnePass), Fixed = nameof(Fixed), Random = nameof(Random), RandomLrMultiplier = nameof(RandomLrMultiplier),
            Random3Batched = nameof(Random3Batched), Lorraine = nameof(Lorraine), Baydin = nameof(Baydin), OursWdLr = nameof(OursWdLr),
            OursWdLrM = nameof(OursWdLrM), OursWdHdlrM = nameof(OursWdHdlrM), DiffThroughOpt = nameof(DiffThroughOpt), BayesOpt = nameof(BayesOpt),
            ScheduleFree = nameof(ScheduleFree), Prodigy = nameof(Prodigy), DAdaptation = nameof(DAdaptation), DoG = nameof(DoG),
            OursProdigy = nameof(OursProdigy), OursScheduleFree = nameof(OursScheduleFree);
    }
}
