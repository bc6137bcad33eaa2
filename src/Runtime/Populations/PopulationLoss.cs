using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A loss per member of a population: outputs and targets [N, B, …] to losses [N], member i's
/// loss from its own rows only. Summing them gives each member the gradient of its own loss.
/// </summary>
internal sealed class PopulationLoss(Loss loss, int members)
{
    public Loss Loss => loss;

    /// <summary>Each member's loss, [N].</summary>
    public Tensor Compute(Tensor output, Tensor target)
    {
        if (ReferenceEquals(loss, Loss.MeanSquaredError))
            return (output - target).square().reshape(members, -1).mean([1]);
        if (ReferenceEquals(loss, Loss.CrossEntropy))
        {
            var classes = output.shape[^1];
            return nn.functional.cross_entropy(output.reshape(-1, classes), target.reshape(-1), reduction: nn.Reduction.None)
                .reshape(members, -1).mean([1]);
        }
        // A loss of the user's own: once per member.
        return torch.stack(Enumerable.Range(0, members).Select(i => loss.Compute(output[i], target[i]).reshape(Array.Empty<long>())).ToArray());
    }

    /// <summary>Why member outputs and targets do not fit the loss, or null (checked on member 0).</summary>
    public string? ShapeProblem(Tensor output, Tensor target) => loss.ShapeProblem(output[0], target[0]);
}
