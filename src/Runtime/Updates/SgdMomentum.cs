using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// SGD with momentum and weight decay, PyTorch semantics:
/// d = g + ξw; b = μb + d (b = d at the first step); u = η ⊙ b.
/// </summary>
public sealed class SgdMomentum : IWeightUpdate
{
    /// <param name="learningRate">η, tuned in log10 space and clamped to [1e-10, 1].</param>
    /// <param name="momentum">μ, tuned in logit space.</param>
    /// <param name="weightDecay">ξ, tuned in log10 space.</param>
    /// <param name="perWeightLearningRate">One learning rate per weight (HDLR) instead of one in all.</param>
    public SgdMomentum(double learningRate = 1e-2, double momentum = 0.9, double weightDecay = 1e-4, bool perWeightLearningRate = false)
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

    public Tensor Step(Tensor weight, Tensor grad, IReadOnlyList<Tensor> hyperparameters, Tensor?[] state)
    {
        var (learningRate, momentum, weightDecay) = (hyperparameters[0], hyperparameters[1], hyperparameters[2]);
        var direction = grad + weightDecay * weight;
        var velocity = state[0] is { } previous ? momentum * previous + direction : direction;
        state[0] = velocity;
        return learningRate * velocity;
    }
}
