using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A weight-update rule whose step reduces over all weight tensors (a step size from norms or
/// sums over every tensor, a distance from the initial weights). It takes its reductions through
/// the run's <see cref="MemberLayout"/>: <see cref="MemberLayout.Sum"/> gives one sum per member,
/// <see cref="MemberLayout.Spread"/> broadcasts a per-member value over a weight, so the same
/// code trains one model or a population whose members never share a step size. An ordinary run
/// calls it with <see cref="MemberLayout.Single"/>.
/// </summary>
public interface IAcrossWeightsUpdate : IWeightUpdate
{
    /// <summary>As <see cref="IWeightUpdate.Updates"/>, with the members' layout for sums across weights.</summary>
    Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state);

    /// <summary>As <see cref="IWeightUpdate.Apply"/>: w ← w − u in place, without a graph.</summary>
    void Apply(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        using var noGrad = TorchSharp.torch.no_grad();
        var u = Updates(members, weights, grads, values, state);
        for (var k = 0; k < weights.Count; k++) weights[k].sub_(u[k]);
    }

    bool IWeightUpdate.KeepsStateAcrossWeights => true;

    Tensor[] IWeightUpdate.Updates(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state) =>
        Updates(MemberLayout.Single, weights, grads, values, state);

    void IWeightUpdate.Apply(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state) =>
        Apply(MemberLayout.Single, weights, grads, values, state);
}

/// <summary>The engine's one way of calling a rule: with the run's layout where the rule takes it.</summary>
internal static class RuleCall
{
    public static Tensor[] Updates(IWeightUpdate rule, MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state) =>
        rule is IAcrossWeightsUpdate across ? across.Updates(members, weights, grads, values, state) : rule.Updates(weights, grads, values, state);

    public static void Apply(IWeightUpdate rule, MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        if (rule is IAcrossWeightsUpdate across) across.Apply(members, weights, grads, values, state);
        else rule.Apply(weights, grads, values, state);
    }
}
