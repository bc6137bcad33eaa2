// Shared by the runtime, the host and the build tasks.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainTune.Hosting
{
    /// <summary>
    /// How every file and line that crosses a process boundary is written: snake_case names, names
    /// of dictionaries as they are, NaN and Infinity as named literals, nulls left out. Used by the
    /// record, result.json and the host's run request.
    /// </summary>
    internal static class ProtocolJson
    {
        public static readonly JsonSerializerOptions Options = new()
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
    }
}
