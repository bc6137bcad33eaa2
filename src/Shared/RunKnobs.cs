// Shared by the build tasks, which read the TrainTune* properties into it once, and the host, which applies it to a run.
namespace TrainTune.Hosting
{
    /// <summary>
    /// The TrainTune* properties that shape one run, typed and already checked by the build
    /// (BuildKnobs.Read names the property in each error). The build hands it to the host inside
    /// the <see cref="HostRunRequest"/>; null keeps the target's own setting.
    /// </summary>
    internal sealed record RunKnobs(
        int? Steps = null,
        string? Method = null,
        long? Seed = null,
        string? Device = null,
        int? Threads = null,
        int? Starts = null,
        int? ValidationBatchSize = null,
        bool Resume = false,
        bool WarmStart = false,
        bool TensorBoard = false,
        int CheckpointEveryBlocks = 20);
}
