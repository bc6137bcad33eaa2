namespace TrainTune;

/// <summary>
/// A <c>[TrainingTarget]</c> method, as listed by the generated registry. <see cref="WarmStart"/>
/// holds the tuned values of a previous build (from <see cref="WarmStartSource"/>) when the
/// build asked for a warm start.
/// </summary>
public sealed record TrainingTarget(string Name, string Method, Func<TuningRun> Create,
    IReadOnlyDictionary<string, double>? WarmStart = null, string? WarmStartSource = null)
{
    // Every training target of the assemblies loaded in this process: the generated registry
    // of each assembly registers its targets when the assembly is loaded.
    static readonly List<TrainingTarget> Registered = [];
    static readonly Lock Gate = new();

    /// <summary>Called by generated code; not meant for user code.</summary>
    public static void Register(IEnumerable<TrainingTarget> targets)
    {
        lock (Gate)
            foreach (var target in targets)
                if (!Registered.Any(t => t.Method == target.Method)) Registered.Add(target);
    }

    /// <summary>Every training target registered in this process.</summary>
    public static IReadOnlyList<TrainingTarget> All
    {
        get { lock (Gate) return Registered.ToArray(); }
    }

    /// <summary>The target named <paramref name="name"/>; an error that lists the valid names otherwise.</summary>
    public static TrainingTarget Find(string name)
    {
        var all = All;
        return all.FirstOrDefault(t => t.Name == name)
            ?? all.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new TrainTuneException(all.Count == 0
                ? $"No training target named '{name}': this assembly has no [TrainingTarget] methods. Add a 'public static TuningRun {name}()' method marked [TrainingTarget]."
                : $"No training target named '{name}'; the valid ones are: {string.Join(", ", all.Select(t => t.Name))}.");
    }
}
