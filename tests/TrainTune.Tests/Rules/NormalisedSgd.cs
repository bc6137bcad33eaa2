using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Rules;

/// <summary>
/// A rule a user might write by hand with state across all weights: SGD on the gradient divided
/// by its norm over every tensor, u = η g / ‖g‖. It says so, and so a population refuses it.
/// </summary>
internal sealed class NormalisedSgd : IWeightUpdate
{
    public IReadOnlyList<HyperparameterSpec> Hyperparameters { get; } = [new("learningRate", 0.01, Transform.Log10)];

    public IReadOnlyList<string> StateNames { get; } = [];

    public bool KeepsStateAcrossWeights => true;

    public Tensor[] Updates(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var norm = grads.Select(g => g.square().sum()).Aggregate((a, b) => a + b).sqrt();
        return grads.Select((g, k) => values[0][k] * g / norm).ToArray();
    }

    public void Apply(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        using var _ = torch.no_grad();
        var u = Updates(weights, grads, values, state);
        for (var k = 0; k < weights.Count; k++) weights[k].sub_(u[k]);
    }
}
