// Shared by the host, which writes a progress line after every block, and the build, which relays it to the log.
using System.Collections.Generic;
using System.Text.Json;

namespace TrainTune.Hosting
{
    /// <summary>
    /// One progress line on the host's standard output: <see cref="HostProtocol.ProgressPrefix"/>
    /// and this record as JSON. Written and read through the same type.
    /// </summary>
    /// <param name="EvaluationSeconds">The final evaluation's expected seconds, counted in the time left; null when not yet known.</param>
    /// <param name="SkippedHypersteps">Hyper steps skipped so far because their hypergradient was not finite.</param>
    /// <param name="NotFinite">The hyperparameters whose hypergradient was not finite at the last skip.</param>
    internal sealed record ProgressLine(int Step, int TotalSteps, double TrainLoss, double ValidationLoss, IReadOnlyDictionary<string, double> Hyperparameters, double ElapsedSeconds,
        double? EvaluationSeconds = null, int SkippedHypersteps = 0, IReadOnlyList<string>? NotFinite = null)
    {
        public string Write() => HostProtocol.ProgressPrefix + JsonSerializer.Serialize(this, ProtocolJson.Options);

        /// <summary>The progress in <paramref name="outputLine"/>, or null for any other line (or a torn one).</summary>
        public static ProgressLine? Parse(string outputLine)
        {
            if (!outputLine.StartsWith(HostProtocol.ProgressPrefix, System.StringComparison.Ordinal)) return null;
            try
            {
                return JsonSerializer.Deserialize<ProgressLine>(outputLine.Substring(HostProtocol.ProgressPrefix.Length), ProtocolJson.Options);
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}
