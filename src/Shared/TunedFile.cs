// Shared by the report task, which writes tuned.json, the host, which starts a warm-started run from it, and the build, which says so in its log.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace TrainTune.Hosting
{
    /// <summary>tuned.json: the final values of a target's run by name (a per-weight hyperparameter by its mean), for a warm start.</summary>
    internal sealed record TunedFile(string Target, string FinishedAt, IReadOnlyDictionary<string, double> Hyperparameters)
    {
        public const string Name = "tuned.json";

        public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Indented) + "\n");

        static readonly JsonSerializerOptions Indented = new(ProtocolJson.Options) { WriteIndented = true };

        /// <summary>
        /// The values in <paramref name="folder"/>'s tuned.json for <paramref name="target"/>: null when
        /// there is none, and <paramref name="problem"/> says why a file that is there cannot be used.
        /// </summary>
        public static TunedFile? ReadFor(string folder, string target, out string? problem)
        {
            problem = null;
            var path = Path.Combine(folder, Name);
            if (!File.Exists(path)) return null;
            TunedFile? tuned;
            try
            {
                tuned = JsonSerializer.Deserialize<TunedFile>(File.ReadAllText(path), ProtocolJson.Options);
            }
            catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
            {
                problem = $"'{path}' cannot be used for a warm start: {e.Message.Split('\n')[0]}; the target starts from its own values.";
                return null;
            }
            problem = tuned is null || tuned.Hyperparameters is null ? "it has no \"hyperparameters\" object"
                : tuned.Target != target ? $"it belongs to target '{tuned.Target}', not '{target}'"
                : tuned.Hyperparameters.FirstOrDefault(h => !double.IsFinite(h.Value)) is { Key: { } bad } ? $"\"{bad}\" is not a finite number"
                : null;
            if (problem is null) return tuned;
            problem = $"'{path}' cannot be used for a warm start: {problem}; the target starts from its own values.";
            return null;
        }

        /// <summary>The values as the build log shows them: name = value, …</summary>
        public string Describe() =>
            string.Join(", ", Hyperparameters.Select(v => $"{v.Key} = {v.Value.ToString("G6", CultureInfo.InvariantCulture)}"));
    }
}
