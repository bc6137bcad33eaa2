// Shared by the host, which writes result.json, and the build tasks, which read it (report, experiments).
using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainTune.Hosting
{
    /// <summary>
    /// result.json: what the host returns for one run of a training target, written and read
    /// through this one type.
    /// </summary>
    /// <param name="DeclaredBy">The C# method that declares the target (Namespace.Type.Method).</param>
    internal sealed record ResultFile(
        string Target,
        string DeclaredBy,
        RunConfiguration Configuration,
        IReadOnlyDictionary<string, double?>? Timing,
        ResultFile.RunSummary Result,
        DateTimeOffset FinishedAt)
    {
        /// <summary>How the run ended (losses on the full splits are NaN after divergence).</summary>
        internal sealed record RunSummary(
            string Method,
            long Seed,
            int StepsCompleted,
            int? DivergedAtStep,
            double TrainLoss,
            double ValidationLoss,
            double? TestLoss,
            IReadOnlyDictionary<string, HyperparameterNumbers> InitialHyperparameters,
            IReadOnlyDictionary<string, HyperparameterNumbers> FinalHyperparameters,
            int SkippedHypersteps,
            double Seconds,
            Metric? Metric);

        /// <summary>The run's metric on the full splits (loss × scale, or computed from the model's output, e.g. accuracy).</summary>
        internal sealed record Metric(string Name, double Train, double Validation, double? Test, bool HigherIsBetter = false);

        public static JsonSerializerOptions Json => ProtocolJson.Options;

        public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));

        /// <summary>The result.json at <paramref name="path"/>; a file that is not one is an <see cref="InvalidDataException"/> that says so.</summary>
        public static ResultFile Read(string path)
        {
            try
            {
                return JsonSerializer.Deserialize<ResultFile>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path} is not a TrainTune result ({e.Message}).", e);
            }
        }
    }
}
