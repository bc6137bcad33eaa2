using static TorchSharp.torch;

namespace TrainTune.Tests.Hypergradients;

/// <summary>
/// Reference: SGD with momentum and weight decay written by hand against IWeightUpdate, to
/// check the generated built-in rule. PyTorch semantics:
/// d = g + ξw; b = μb + d (b = d at the first step); u = η ⊙ b.
/// </summary>
public sealed class HandWrittenSgdMomentum : IWeightUpdate
{
    /// <param name="learningRate">η, tuned in log10 space and clamped to [1e-10, 1].</param>
    /// <param name="momentum">μ, tuned in logit space.</param>
    /// <param name="weightDecay">ξ, tuned in log10 space.</param>
    /// <param name="perWeightLearningRate">One learning rate per weight (HDLR) instead of one in all.</param>
    public HandWrittenSgdMomentum(double learningRate = 1e-2, double momentum = 0.9, double weightDecay = 1e-4, bool perWeightLearningRate = false)
    {
        Hyperparameters =
        [
            new HyperparameterSpec(LearningRate, learningRate, Transform.Log10, Min: 1e-10, Max: 1, PerWeight: perWeightLearningRate, Summary: "Step size."),
            new HyperparameterSpec(Momentum, momentum, Transform.Logit, Summary: "Momentum coefficient."),
            new HyperparameterSpec(WeightDecay, weightDecay, Transform.Log10, Summary: "L2 weight decay coefficient."),
        ];
    }

    public const string LearningRate = "learningRate";
    public const string Momentum = "momentum";
    public const string WeightDecay = "weightDecay";

    public IReadOnlyList<HyperparameterSpec> Hyperparameters { get; }

    public IReadOnlyList<string> StateNames { get; } = ["velocity"];

    public Tensor[] Updates(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        var updates = new Tensor[weights.Count];
        for (var k = 0; k < weights.Count; k++)
            updates[k] = Step(weights[k], grads[k], values[0][k], values[1][k], values[2][k], ref state[k][0]);
        return updates;
    }

    public void Apply(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> grads, Tensor[][] values, Tensor?[][] state)
    {
        using var _ = TorchSharp.torch.no_grad();
        for (var k = 0; k < weights.Count; k++)
            weights[k].sub_(Step(weights[k], grads[k], values[0][k], values[1][k], values[2][k], ref state[k][0]));
    }

    static Tensor Step(Tensor weight, Tensor grad, Tensor learningRate, Tensor momentum, Tensor weightDecay, ref Tensor? velocity)
    {
        var direction = grad + weightDecay * weight;
        velocity = velocity is null ? direction : momentum * velocity + direction;
        return learningRate * velocity;
    }
}
