using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A weight-update rule w ← w − u(λ, w), applied to one weight tensor at a time. The rule is
/// a pure function of its inputs: it must not change any tensor in place, so that the
/// runtime can differentiate u with respect to the weight and to the hyperparameters.
/// The source generator implements this interface for <c>[WeightUpdate]</c> classes.
/// </summary>
public interface IWeightUpdate
{
    /// <summary>The rule's hyperparameters, in the order of the values passed to <see cref="Step"/>.</summary>
    IReadOnlyList<HyperparameterSpec> Hyperparameters { get; }

    /// <summary>Names of the per-weight state tensors carried between steps (e.g. a momentum buffer).</summary>
    IReadOnlyList<string> StateNames { get; }

    /// <summary>
    /// Returns u for one weight tensor. <paramref name="hyperparameters"/>[h] is the value of
    /// hyperparameter h: 0-dimensional, or weight-shaped where per weight. <paramref name="state"/>
    /// holds the state tensors (null before the first step); the rule replaces them with the
    /// new state, out of place. The incoming state is a constant for differentiation.
    /// </summary>
    Tensor Step(Tensor weight, Tensor grad, IReadOnlyList<Tensor> hyperparameters, Tensor?[] state);
}
