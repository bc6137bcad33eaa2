// Shared by the runtime, which writes a run's record (record.jsonl), and the build tasks, which read it (report, plots).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainTune.Hosting
{
    /// <summary>
    /// A hyperparameter's numbers in every file: a scalar has Value = Min = Max; a per-weight one
    /// has the mean, minimum and maximum over all weights, and the same per weight tensor; with
    /// parameter groups whose values differ, the mean over all weights and each group's value.
    /// </summary>
    internal sealed record HyperparameterNumbers(double Value, double Min, double Max, IReadOnlyDictionary<string, HyperparameterNumbers>? PerTensor = null,
        IReadOnlyDictionary<string, double>? PerGroup = null);

    /// <summary>
    /// record.jsonl: one JSON object per line, its "event" first: "start", then one "block" per
    /// hyper step (with "hyperstep_skipped" and "resumed" where they happen), "diverged" at the
    /// step a loss stopped being finite, and a closing "finished" or "stopped" (after divergence). Each line is written whole, so an interrupted run leaves every
    /// completed line readable; a torn last line is skipped on reading.
    /// </summary>
    internal static class RecordFile
    {
        public const string Start = "start", Block = "block", HyperstepSkipped = "hyperstep_skipped", Resumed = "resumed", Diverged = "diverged", Finished = "finished", Stopped = "stopped";

        /// <summary>A "block" line: the state after a block of weight steps.</summary>
        internal sealed record BlockLine(
            int Step,
            double TrainLoss,
            double ValidationLoss,
            IReadOnlyDictionary<string, HyperparameterNumbers> Hyperparameters,
            double? HypergradientNorm,
            bool HyperstepSkipped);

        /// <summary>The "start" line: what the run is.</summary>
        internal sealed record StartLine(
            string Method,
            JsonObject? MethodOptions,
            long Seed,
            int Steps,
            int? BatchSize,
            int? ValidationBatchSize,
            string Device,
            string Precision,
            string Rule,
            string Loss,
            ThreadNumbers Threads,
            PopulationPlace? Population,
            IReadOnlyList<string> Weights,
            IReadOnlyDictionary<string, HyperparameterNumbers> Hyperparameters)
        {
            /// <summary>"norm 0.25" or "value 1" when the run clips its gradients; absent otherwise.</summary>
            public string? GradientClipping { get; init; }

            /// <summary>The schedules multiplying hyperparameters, by name, in words; absent when there are none.</summary>
            public IReadOnlyDictionary<string, string>? Schedules { get; init; }
        }

        /// <summary>A population member's place in it.</summary>
        internal sealed record PopulationPlace(int Members, int Member);

        /// <summary>A "hyperstep_skipped" line.</summary>
        internal sealed record SkippedLine(int Step, string Reason, double? HypergradientNorm)
        {
            /// <summary>The hyperparameters whose hypergradient was not finite (absent in records written before it existed).</summary>
            public IReadOnlyList<string>? Hyperparameters { get; init; }
        }

        /// <summary>A "resumed" line.</summary>
        internal sealed record ResumedLine(int Step, string? Checkpoint);

        /// <summary>A "diverged" line: the first step whose training loss was not finite.</summary>
        internal sealed record DivergedLine(int Step, string Note, double TrainLoss);

        /// <summary>The closing "finished" (or "stopped", after divergence) line.</summary>
        internal sealed record FinishedLine(
            int StepsCompleted,
            int? DivergedAtStep,
            string? Note,
            double TrainLoss,
            double ValidationLoss,
            double? TestLoss,
            int SkippedHypersteps,
            double Seconds,
            IReadOnlyDictionary<string, HyperparameterNumbers> Hyperparameters,
            ResultFile.Metric? Metric = null);

        sealed record EventOnly(string? Event);

        /// <summary>One line: <paramref name="event"/>, then <paramref name="content"/>'s properties.</summary>
        public static string Line(string @event, object content)
        {
            var element = JsonSerializer.SerializeToElement(content, content.GetType(), ProtocolJson.Options);
            var line = new Dictionary<string, JsonElement> { ["event"] = JsonSerializer.SerializeToElement(@event, ProtocolJson.Options) };
            foreach (var property in element.EnumerateObject()) line[property.Name] = property.Value;
            return JsonSerializer.Serialize(line, ProtocolJson.Options);
        }

        /// <summary>The "block" lines of the record at <paramref name="path"/> (none when there is no record).</summary>
        public static List<BlockLine> ReadBlocks(string path) => Read<BlockLine>(path, Block);

        /// <summary>The lines of event <paramref name="event"/> in the record at <paramref name="path"/>, read as the type they were written as.</summary>
        public static List<T> Read<T>(string path, string @event)
        {
            var lines = new List<T>();
            if (!File.Exists(path)) return lines;
            foreach (var line in File.ReadLines(path))
            {
                try
                {
                    if (JsonSerializer.Deserialize<EventOnly>(line, ProtocolJson.Options)?.Event != @event) continue;
                    if (JsonSerializer.Deserialize<T>(line, ProtocolJson.Options) is { } read) lines.Add(read);
                }
                catch (JsonException)
                {
                    // A line torn by an interrupted run.
                }
            }
            return lines;
        }
    }
}
