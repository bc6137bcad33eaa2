// Shared by the build tasks, which write the request, and the host, which reads it.
using System.Collections.Generic;
using System.Text.Json;

namespace TrainTune.Hosting
{
    /// <summary>
    /// What the build asks of one run of a training target: <c>TrainTune.Host run REQUEST-JSON</c>.
    /// Null keeps the target's own setting.
    /// </summary>
    internal sealed record HostRunRequest(
        string Assembly,
        string Target,
        string OutputDirectory,
        RunKnobs? Knobs = null,
        bool RandomInitial = false,
        int? Cores = null,
        IReadOnlyList<HostRunRequest.Member>? Population = null,
        bool StackedOnly = false)
    {
        // StackedOnly: a population that is only worth running stacked (auto's measurement): where
        // the model or method cannot be, the host runs nothing and exits with ExitNotStacked,
        // rather than running the members one after another on one core.

        /// <summary>
        /// One member of a population request: its seed and output folder. With
        /// <see cref="Population"/>, the host runs one run per member (as one population where the
        /// model allows), each writing into its own folder; <see cref="Seed"/> and
        /// <see cref="OutputDirectory"/> are then unused.
        /// </summary>
        internal sealed record Member(long Seed, string OutputDirectory);

        /// <summary>The run's knobs (none set: the target as it is).</summary>
        public RunKnobs Run => Knobs ?? new RunKnobs();

        public string ToJson() => JsonSerializer.Serialize(this, ProtocolJson.Options);

        /// <summary>The request in <paramref name="json"/>; a malformed one is a <see cref="JsonException"/>.</summary>
        public static HostRunRequest FromJson(string json) =>
            JsonSerializer.Deserialize<HostRunRequest>(json, ProtocolJson.Options) ?? throw new JsonException("The run request is empty.");
    }
}
