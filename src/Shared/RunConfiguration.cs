// Shared by the host, which writes it into result.json, and the build tasks, which read it (report, history, experiments on Slurm).
using System.Text.Json.Nodes;

namespace TrainTune.Hosting
{
    /// <summary>
    /// How one run was configured, as result.json and the report give it: the method (as run, and
    /// as the build named it), the run's settings, and what the build did around it (random
    /// initial values, warm start, resume, several starts).
    /// </summary>
    internal sealed record RunConfiguration(
        string MethodName,
        string? MethodRequested,
        string? Note,
        JsonObject? MethodOptions,
        int Steps,
        long Seed,
        int? BatchSize,
        int? ValidationBatchSize,
        string Device,
        string Precision,
        string Rule,
        string Loss,
        bool RandomInitial,
        string Metric,
        string? WarmStart,
        bool Resumed,
        int? Starts,
        int? BestStart,
        ThreadNumbers? Threads);
}
