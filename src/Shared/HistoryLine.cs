// Shared like every file TrainTune writes: the report task appends history.jsonl and reads it back in the next build.
using System.Collections.Generic;

namespace TrainTune.Hosting
{
    /// <summary>One line of history.jsonl: a finished run of a target, as the next build compares it.</summary>
    internal sealed record HistoryLine(
        string Time,
        string Target,
        string Method,
        long? Seed,
        int Steps,
        int? DivergedAtStep,
        double? TrainLoss,
        double? ValidationLoss,
        double? TestLoss,
        string? Metric,
        double? TestMetric,
        double Seconds,
        IReadOnlyDictionary<string, double> Hyperparameters);
}
