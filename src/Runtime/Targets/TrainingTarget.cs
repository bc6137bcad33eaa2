namespace TrainTune;

/// <summary>
/// A <c>[TrainingTarget]</c> method, as listed by the generated registry: its target name and the
/// C# method that declares it (<see cref="DeclaredBy"/>, Namespace.Type.Method).
/// </summary>
public sealed record TrainingTarget(string Name, string DeclaredBy, Func<TuningRun> Create)
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
                if (!Registered.Any(t => t.DeclaredBy == target.DeclaredBy)) Registered.Add(target);
    }

    /// <summary>Every training target registered in this process.</summary>
    public static IReadOnlyList<TrainingTarget> All
    {
        get { lock (Gate) return Registered.ToArray(); }
    }

    /// <summary>The target named <paramref name="name"/>; an error that lists the valid names otherwise.</summary>
    public static TrainingTarget Find(string name) => Find(name, All);

    /// <summary>The target named <paramref name="name"/> among <paramref name="targets"/> (one assembly's, for the host).</summary>
    internal static TrainingTarget Find(string name, IReadOnlyList<TrainingTarget> targets) =>
        targets.FirstOrDefault(t => t.Name == name)
        ?? targets.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new TrainTuneException(targets.Count == 0
            ? $"No training target named '{name}': this assembly has no [TrainingTarget] methods. Add a 'public static TuningRun {name}()' method marked [TrainingTarget]."
            : $"No training target named '{name}'; the valid ones are: {string.Join(", ", targets.Select(t => t.Name))}.");

    /// <summary>The targets <paramref name="assembly"/>'s generated registry registered (it runs when the assembly's module is initialised).</summary>
    internal static IReadOnlyList<TrainingTarget> Of(System.Reflection.Assembly assembly)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        return All.Where(t => t.Create.Method.Module.Assembly == assembly).ToArray();
    }
}
