using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Adam with L2 weight decay added to the gradient, PyTorch semantics (bias-corrected moments):
/// g' = g + ξw; m = β1 m + (1 − β1) g'; v = β2 v + (1 − β2) g'²; u = η m̂ / (√v̂ + ε).
/// </summary>
[WeightUpdate]
public sealed partial class Adam
{
#pragma warning disable IDE1006, IDE0044 // [Hyperparameter] fields are named as the hyperparameters they declare, and the generated code assigns them
    /// <summary>Step size η.</summary>
    [Hyperparameter(Initial = 1e-3, Transform = Transform.Log10, Min = 1e-10, Max = 1)]
    private Tensor learningRate;

    /// <summary>Decay rate β1 of the first moment.</summary>
    [Hyperparameter(Initial = 0.9, Transform = Transform.Logit)]
    private Tensor beta1;

    /// <summary>Decay rate β2 of the second moment.</summary>
    [Hyperparameter(Initial = 0.999, Transform = Transform.Logit)]
    private Tensor beta2;

    /// <summary>Term ε added to the denominator.</summary>
    [Hyperparameter(Initial = 1e-8, Transform = Transform.Log10)]
    private Tensor epsilon;

    /// <summary>L2 weight decay coefficient ξ, added to the gradient.</summary>
    [Hyperparameter(Initial = 1e-6, Transform = Transform.Log10)]
    private Tensor weightDecay;
#pragma warning restore IDE1006, IDE0044

    public Adam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-6,
        bool perWeightLearningRate = false)
    {
        SetInitial(nameof(this.learningRate), learningRate);
        SetInitial(nameof(this.beta1), beta1);
        SetInitial(nameof(this.beta2), beta2);
        SetInitial(nameof(this.epsilon), epsilon);
        SetInitial(nameof(this.weightDecay), weightDecay);
        SetPerWeight(nameof(this.learningRate), perWeightLearningRate);
    }

    private Tensor Step(Tensor weight, Tensor grad, ref Tensor? firstMoment, ref Tensor? secondMoment, ref Tensor? steps)
    {
        var direction = grad + weightDecay * weight;
        return AdamMath.Update(learningRate, beta1, beta2, epsilon, direction, ref firstMoment, ref secondMoment, ref steps);
    }
}

/// <summary>
/// AdamW: Adam with decoupled weight decay, PyTorch semantics:
/// m, v from g; u = η (m̂ / (√v̂ + ε) + ξw).
/// </summary>
[WeightUpdate]
public sealed partial class AdamW
{
#pragma warning disable IDE1006, IDE0044 // [Hyperparameter] fields are named as the hyperparameters they declare, and the generated code assigns them
    /// <summary>Step size η.</summary>
    [Hyperparameter(Initial = 1e-3, Transform = Transform.Log10, Min = 1e-10, Max = 1)]
    private Tensor learningRate;

    /// <summary>Decay rate β1 of the first moment.</summary>
    [Hyperparameter(Initial = 0.9, Transform = Transform.Logit)]
    private Tensor beta1;

    /// <summary>Decay rate β2 of the second moment.</summary>
    [Hyperparameter(Initial = 0.999, Transform = Transform.Logit)]
    private Tensor beta2;

    /// <summary>Term ε added to the denominator.</summary>
    [Hyperparameter(Initial = 1e-8, Transform = Transform.Log10)]
    private Tensor epsilon;

    /// <summary>Decoupled weight decay coefficient ξ.</summary>
    [Hyperparameter(Initial = 1e-2, Transform = Transform.Log10)]
    private Tensor weightDecay;
#pragma warning restore IDE1006, IDE0044

    public AdamW(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-2,
        bool perWeightLearningRate = false)
    {
        SetInitial(nameof(this.learningRate), learningRate);
        SetInitial(nameof(this.beta1), beta1);
        SetInitial(nameof(this.beta2), beta2);
        SetInitial(nameof(this.epsilon), epsilon);
        SetInitial(nameof(this.weightDecay), weightDecay);
        SetPerWeight(nameof(this.learningRate), perWeightLearningRate);
    }

    private Tensor Step(Tensor weight, Tensor grad, ref Tensor? firstMoment, ref Tensor? secondMoment, ref Tensor? steps) =>
        AdamMath.Update(learningRate, beta1, beta2, epsilon, grad, ref firstMoment, ref secondMoment, ref steps)
        + learningRate * weightDecay * weight;
}

/// <summary>The bias-corrected Adam step shared by <see cref="Adam"/> and <see cref="AdamW"/>, out of place.</summary>
internal static class AdamMath
{
    public static Tensor Update(Tensor learningRate, Tensor beta1, Tensor beta2, Tensor epsilon, Tensor direction,
        ref Tensor? firstMoment, ref Tensor? secondMoment, ref Tensor? steps)
    {
        var square = direction * direction;
        firstMoment = firstMoment is null ? (1 - beta1) * direction : beta1 * firstMoment + (1 - beta1) * direction;
        secondMoment = secondMoment is null ? (1 - beta2) * square : beta2 * secondMoment + (1 - beta2) * square;
        steps = steps is null ? torch.ones([], dtype: direction.dtype, device: direction.device) : steps + 1;
        var corrected1 = firstMoment / (1 - beta1.pow(steps));
        var corrected2 = secondMoment / (1 - beta2.pow(steps));
        // √v̂ with derivative 0 at v̂ = 0: a weight whose gradients were all 0 (an embedding row not in
        // any batch yet) has u = 0 for every β2 and nearby w, and would otherwise make the hypergradient NaN.
        return learningRate * corrected1 / (ZeroSafe.Sqrt(corrected2) + epsilon);
    }
}
