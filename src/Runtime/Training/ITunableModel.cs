using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A model with hyperparameters of its own (used in its forward pass, so in the training and
/// validation losses). They join the run's hyperparameter set; their direct term ∂L_V/∂λ is
/// part of the hypergradient. The source generator implements this for <c>[TunableModel]</c>.
/// </summary>
public interface ITunableModel
{
    IReadOnlyList<HyperparameterSpec> Hyperparameters { get; }

    /// <summary>Receives the current values (0-dimensional tensors, possibly inside the autograd graph) before each forward pass.</summary>
    void SetHyperparameters(IReadOnlyList<Tensor> values);
}
