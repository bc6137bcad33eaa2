namespace TrainTune.Hosting;

/// <summary>The methods selectable by name (TrainTuneMethod), with their defaults.</summary>
public static class MethodNames
{
    static readonly Dictionary<string, Func<Method>> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["OnePass"] = () => Method.OnePass(),
        ["Fixed"] = () => Method.Fixed(),
    };

    public static IReadOnlyCollection<string> All => Known.Keys;

    public static Method Create(string name) =>
        Known.TryGetValue(name, out var create) ? create()
        : throw new TrainTuneException($"Unknown method '{name}'; the valid ones are: {string.Join(", ", Known.Keys)}.");
}
