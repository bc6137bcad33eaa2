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

        /// <summary>The record of start <paramref name="start"/> of a BestOf run (Method.BestOf, TrainTuneStarts), beside its record.jsonl.</summary>
        public static string StartRecordFile(int start) => $"record-start-{start}.jsonl";

        /// <summary>
        /// Exit codes of the host; <see cref="ExitNotStacked"/>: a population request that had to be
        /// stacked (<see cref="HostRunRequest.StackedOnly"/>) for a model or method that cannot be,
        /// nothing run.
        /// </summary>
        public const int ExitOk = 0, ExitBadInput = 2, ExitFailure = 3, ExitNotStacked = 4;
    }
}
