using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A weight-update rule w ← w − u(λ, w), over all weight tensors of a model. The source
/// generator implements this interface for <c>[WeightUpdate]</c> classes from their
/// per-tensor rule method; the runtime differentiates <see cref="Updates"/> with respect to
/// the weights and to the hyperparameters.
/// </summary>
public interface IWeightUpdate
{
    /// <summary>The rule's hyperparameters, in the order of the first index of the values.</summary>
    IReadOnlyList<HyperparameterSpec> Hyperparameters { get; }

    /// <summary>Names of the per-weight state tensors carried between steps (e.g. a momentum buffer).</summary>
    IReadOnlyList<string> StateNames { get; }

    /// <summary>
    /// Whether the rule reduces over all weight tensors (a step size from norms or sums over all of
    /// them). Such a rule trains a population only when it implements <see cref="IAcrossWeightsUpdate"/>,
    /// whose sums run per member through the layout (as the built-in DoG, Prodigy, D-Adaptation and
    /// Schedule-Free do); otherwise the stacked tensors would make the members share its state, and
    /// a population refuses it.
    /// </summary>
    bool KeepsStateAcrossWeights => false;

    /// <summary>
    /// Differentiable mode: returns u for every weight tensor, out of place, keeping the graph.
    /// <paramref name="values"/>[h][k] is hyperparameter h for weight k (0-dimensional, or
    /// weight-shaped where per weight). <paramref name="state"/>[k][s] is state s of weight k
    /// (null before the first step); the rule replaces it with the new state. The incoming
    /// state is a constant for differentiation.
    /// </summary>
    Tensor[] Updates(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state);

    /// <summary>Untracked mode: w ← w − u in place for every weight tensor, without a graph.</summary>
    void Apply(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state);
}
