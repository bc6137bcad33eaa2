using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The parameter groups of a run resolved against its weights: which group each weight is in, and
/// for each group which rule hyperparameters have values of their own (an initial value, a hold,
/// or one value per group). Bad groups are refused here, before anything is built.
/// </summary>
internal sealed class Grouping
{
    readonly IReadOnlyList<ParameterGroup> _groups;
    readonly IReadOnlyCollection<string> _perGroup;
    readonly int _ruleHyperparameters;

    Grouping(IReadOnlyList<ParameterGroup> groups, int[] groupOfWeight, IReadOnlyCollection<string> perGroup, int ruleHyperparameters) =>
        (_groups, GroupOfWeight, _perGroup, _ruleHyperparameters, Names) = (groups, groupOfWeight, perGroup, ruleHyperparameters, groups.Select(g => g.Name).ToArray());

    /// <summary>The groups' names, in the order given.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The group of each weight.</summary>
    public int[] GroupOfWeight { get; }

    /// <summary>
    /// Resolves <paramref name="groups"/> against the trainable <paramref name="weights"/> (name,
    /// parameter); <paramref name="perGroup"/> names the hyperparameters tuned as one value per group.
    /// </summary>
    public static Grouping? Of(IReadOnlyList<ParameterGroup>? groups, IReadOnlyList<(string Name, Tensor Parameter)> weights, IReadOnlyCollection<string>? perGroup, int ruleHyperparameters)
    {
        if (groups is null || groups.Count == 0)
        {
            if (perGroup is { Count: > 0 })
                throw new TrainTuneException($"'{string.Join("', '", perGroup)}' cannot be tuned per group: the run has no parameter groups (WithGroups).");
            return null;
        }
        var duplicate = groups.GroupBy(g => g.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new TrainTuneException($"Two parameter groups are named '{duplicate.Key}': give every group its own name.");
        if (groups.Count(g => g.IsRest) > 1) throw new TrainTuneException("Only one parameter group can take the rest (ParameterGroup.Rest).");
        var rest = groups.Select((g, i) => (g, i)).Where(x => x.g.IsRest).Select(x => (int?)x.i).FirstOrDefault();
        var chosen = new int[weights.Count];
        for (var k = 0; k < weights.Count; k++)
        {
            var (name, parameter) = weights[k];
            var matches = groups.Select((g, i) => (g, i)).Where(x => !x.g.IsRest && x.g.Selects(name, parameter)).ToArray();
            if (matches.Length > 1)
                throw new TrainTuneException($"The parameter '{name}' is in two parameter groups, '{matches[0].g.Name}' ({matches[0].g.Selection}) and '{matches[1].g.Name}' ({matches[1].g.Selection}): every parameter belongs to exactly one group; narrow one of them.");
            chosen[k] = matches.Length == 1 ? matches[0].i
                : rest ?? throw new TrainTuneException($"The parameter '{name}' is in no parameter group (the groups are {string.Join(", ", groups)}): add a group for it, or ParameterGroup.Rest(\"rest\") for every parameter no other group chooses.");
        }
        foreach (var (group, i) in groups.Select((g, i) => (g, i)))
            if (!chosen.Contains(i))
                throw new TrainTuneException($"The parameter group '{group.Name}' ({group.Selection}) holds no trainable parameter; the model's are {string.Join(", ", weights.Select(w => w.Name))}.");
        return new Grouping(groups, chosen, perGroup ?? [], ruleHyperparameters);
    }

    /// <summary>Refuses group settings that name no rule hyperparameter or values the hyperparameter cannot take, naming the group.</summary>
    public void Check(IReadOnlyList<HyperparameterSpec> specs)
    {
        var rule = specs.Take(_ruleHyperparameters).ToArray();
        var names = string.Join(", ", rule.Select(s => s.Name));
        foreach (var name in _perGroup.Where(n => rule.All(s => s.Name != n)))
            throw new TrainTuneException($"'{name}' cannot be tuned per group: the rule has no hyperparameter of that name (it has {names}).");
        foreach (var group in _groups)
        {
            foreach (var name in group.InitialValues.Keys.Concat(group.Held).Where(n => rule.All(s => s.Name != n)))
                throw new TrainTuneException($"Parameter group '{group.Name}' sets '{name}', which the rule does not have (it has {names}).");
            foreach (var (name, value) in group.InitialValues)
            {
                try
                {
                    rule.First(s => s.Name == name).WithInitial(value).Validate();
                }
                catch (TrainTuneException e)
                {
                    throw new TrainTuneException($"Parameter group '{group.Name}': {e.Message}", e);
                }
            }
        }
    }

    /// <summary>Whether hyperparameter <paramref name="h"/> is the rule's (groups give values to the rule's only).</summary>
    public bool Applies(int h) => h < _ruleHyperparameters;

    /// <summary>Whether group <paramref name="g"/> has a value of its own for <paramref name="name"/>.</summary>
    public bool HasOwn(int g, string name) => _perGroup.Contains(name) || _groups[g].InitialValues.ContainsKey(name) || _groups[g].Held.Contains(name);

    /// <summary>Whether group <paramref name="g"/> holds <paramref name="name"/>.</summary>
    public bool Holds(int g, string name) => _groups[g].Held.Contains(name);

    /// <summary>Group <paramref name="g"/>'s initial value of <paramref name="name"/>, or null for the run's.</summary>
    public double? Initial(int g, string name) => _groups[g].InitialValues.TryGetValue(name, out var value) ? value : null;
}
