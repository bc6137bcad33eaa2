namespace TrainTune.Hosting;

/// <summary>What the build asks of one training-target run; null keeps the target's own setting.</summary>
internal sealed record HostRunOptions(
    string Target,
    string OutputDirectory,
    int? Steps = null,
    string? Method = null,
    long? Seed = null,
    string? Device = null,
    bool Resume = false,
    int CheckpointEveryBlocks = 20,
    bool WarmStart = false,
    bool RandomInitial = false,
    int? Threads = null,
    int? Cores = null);
