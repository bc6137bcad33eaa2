using TorchSharp;
namespace TrainTune;

/// <summary>Checks shared by the hand-written rules, each a clear error naming the rule and the setting.</summary>
internal static class RuleChecks
{
    public static void Validate(string rule, IEnumerable<HyperparameterSpec> specs)
    {
        foreach (var spec in specs)
        {
            try
            {
                spec.Validate();
            }
            catch (TrainTuneException e)
            {
                throw new TrainTuneException($"{rule}: {e.Message}", e);
            }
        }
    }

    /// <summary>Replaces the spec named <paramref name="name"/> by <paramref name="change"/>(spec), or a clear error naming the rule's hyperparameters.</summary>
    public static void Change(string rule, HyperparameterSpec[] specs, string name, Func<HyperparameterSpec, HyperparameterSpec> change)
    {
        var h = Array.FindIndex(specs, s => s.Name == name);
        if (h < 0) throw new TrainTuneException($"{rule} has no hyperparameter named '{name}'; it has: {string.Join(", ", specs.Select(s => s.Name))}.");
        specs[h] = change(specs[h]);
    }

    public static void Positive(string rule, params (string Name, double Value)[] settings)
    {
        foreach (var (name, value) in settings)
            if (!(value > 0))
                throw new TrainTuneException($"{rule}: {name} must be greater than 0, not {value}.");
    }

}
