using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A rule that trains at one point and is evaluated at another (Schedule-Free: gradients at y,
/// losses and checkpoints at the average x). The weights hold the training point.
/// </summary>
internal interface IEvaluationPoint
{
    /// <summary>Whether this instance is evaluated elsewhere (DoG only with its averager).</summary>
    bool Differs => true;

    /// <summary>
    /// The evaluation point for each weight tensor from the training point <paramref name="weights"/>,
    /// differentiable in the weights, the hyperparameter values and the state. Before the first
    /// step (no state yet) the two points are the same.
    /// </summary>
    Tensor[] EvaluationWeights(IReadOnlyList<Tensor> weights, Tensor[][] values, Tensor?[][] state);
}
