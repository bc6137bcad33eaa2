using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// What a built-in rule with global state needs at one step: sums over every weight tensor per
/// member (through the run's <see cref="MemberLayout"/>), the rule's scalar hyperparameters as
/// one value per member, and its global state, kept in weight 0's state row (other weights hold
/// null there).
/// </summary>
internal sealed class AcrossWeights
{
    readonly IReadOnlyList<Tensor> _weights;
    readonly Tensor[][] _values;
    readonly Tensor?[][] _state;
    readonly IWeightUpdate _rule;
    readonly MemberLayout _members;

    public AcrossWeights(IWeightUpdate rule, MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        if (grads.Count != weights.Count || state.Length != weights.Count || values.Length != rule.Hyperparameters.Count || weights.Count == 0)
            throw new ArgumentException($"{rule.GetType().Name} expects one gradient and one state row per weight tensor (at least one) and {rule.Hyperparameters.Count} hyperparameter value rows.");
        _rule = rule;
        _members = members;
        _weights = weights;
        _values = values;
        _state = state;
    }

    public int Count => _weights.Count;

    /// <summary>Whether this is the rule's first step (no global state yet).</summary>
    public bool First(int globalState) => _state[0][globalState] is null;

    public Tensor? Global(int s) => _state[0][s];

    public void SetGlobal(int s, Tensor value) => _state[0][s] = value;

    /// <summary>Hyperparameter <paramref name="h"/> as one value per member: 0-dimensional for a single run, [N] for a population.</summary>
    public Tensor Scalar(int h)
    {
        var value = _values[h][0];
        if (value.numel() != _members.Members)
            throw new TrainTuneException($"{_rule.GetType().Name} uses '{_rule.Hyperparameters[h].Name}' across all weights: it cannot be per weight. Leave it one value for all weights.");
        return _members.PerMember(value, _rule.Hyperparameters[h].Name);
    }

    /// <summary>Hyperparameter <paramref name="h"/> for weight <paramref name="k"/>, broadcastable against it.</summary>
    public Tensor Value(int h, int k) => _values[h][k];

    /// <summary>Σ over weight tensors of the elementwise sum of <paramref name="perWeight"/>(k), per member.</summary>
    public Tensor Sum(Func<int, Tensor> perWeight)
    {
        Tensor? total = null;
        for (var k = 0; k < _weights.Count; k++)
        {
            var t = perWeight(k);
            var sum = _members.Sum(t);
            total = total is null ? sum : total + sum;
        }
        return total!;
    }

    /// <summary>A per-member value spread to broadcast against weight <paramref name="k"/> ([N, 1, …] in a population).</summary>
    public Tensor Spread(Tensor perMember, int k) => _members.Spread(perMember, _weights[k]);

    /// <summary>A per-member constant (e.g. an initial d) of the weights' dtype and device.</summary>
    public Tensor Constant(double value) => _members.Constant(value, _weights[0]);
}
