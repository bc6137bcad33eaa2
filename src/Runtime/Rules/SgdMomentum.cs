using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// SGD with momentum and weight decay, PyTorch semantics:
/// d = g + ξw; b = μb + d (b = d at the first step); u = η ⊙ b.
/// </summary>
[WeightUpdate]
public sealed partial class SgdMomentum
{
#pragma warning disable IDE1006, IDE0044 // [Hyperparameter] fields are named as the hyperparameters they declare, and the generated code assigns them
    /// <summary>Step size η.</summary>
    [Hyperparameter(Initial = 1e-2, Transform = Transform.Log10, Min = 1e-10, Max = 1)]
    private Tensor learningRate;

    /// <summary>Momentum coefficient μ.</summary>
    [Hyperparameter(Initial = 0.9, Transform = Transform.Logit)]
    private Tensor momentum;

    /// <summary>L2 weight decay coefficient ξ.</summary>
    [Hyperparameter(Initial = 1e-4, Transform = Transform.Log10)]
    private Tensor weightDecay;
#pragma warning restore IDE1006, IDE0044

    /// <param name="learningRate">η, tuned in log10 space and clamped to [1e-10, 1].</param>
    /// <param name="momentum">μ, tuned in logit space.</param>
    /// <param name="weightDecay">ξ, tuned in log10 space.</param>
    /// <param name="perWeightLearningRate">One learning rate per weight (HDLR) instead of one in all.</param>
    public SgdMomentum(double learningRate = 1e-2, double momentum = 0.9, double weightDecay = 1e-4, bool perWeightLearningRate = false)
    {
        SetInitial(LearningRate, learningRate);
        SetInitial(Momentum, momentum);
        SetInitial(WeightDecay, weightDecay);
        SetPerWeight(LearningRate, perWeightLearningRate);
    }

    public const string LearningRate = nameof(learningRate);
    public const string Momentum = nameof(momentum);
    public const string WeightDecay = nameof(weightDecay);

    private Tensor Step(Tensor weight, Tensor grad, ref Tensor? velocity)
    {
        var direction = grad + weightDecay * weight;
        velocity = velocity is null ? direction : momentum * velocity + direction;
        return learningRate * velocity;
    }
}
