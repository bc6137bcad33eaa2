using static TorchSharp.torch;

namespace TrainTune.Tests.Rules;

/// <summary>
/// <see cref="NormalisedSgd"/> as a user writes it for populations too: u = η g / ‖g‖ with the
/// norm over every weight tensor taken per member through the run's layout.
/// </summary>
internal sealed class MemberNormalisedSgd : IAcrossWeightsUpdate
{
    public IReadOnlyList<HyperparameterSpec> Hyperparameters { get; } = [new("learningRate", 0.01, Transform.Log10)];

    public IReadOnlyList<string> StateNames { get; } = [];

    public Tensor[] Updates(MemberLayout members, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var norm = grads.Select(g => members.Sum(g.square())).Aggregate((a, b) => a + b).sqrt();
        return grads.Select((g, k) => values[0][k] * g / members.Spread(norm, g)).ToArray();
    }
}
