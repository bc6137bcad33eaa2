using static TorchSharp.torch;

namespace TrainTune.Tests.Rules;

/// <summary>
/// A rule that is not built in, written as a user would: SGD with Nesterov momentum and weight
/// decay (PyTorch's nesterov=True): d = g + ξw; b = μb + d; u = η (d + μb).
/// </summary>
[WeightUpdate]
public partial class NesterovSgd
{
#pragma warning disable IDE1006, IDE0044 // [Hyperparameter] fields are named as the hyperparameters they declare, and the generated code assigns them
    /// <summary>Step size.</summary>
    [Hyperparameter(Initial = 1e-3, Transform = Transform.Log10, Min = 1e-10, Max = 1)]
    private Tensor learningRate;

    /// <summary>Nesterov momentum.</summary>
    [Hyperparameter(Initial = 0.5, Transform = Transform.Logit)]
    private Tensor momentum;

    /// <summary>Weight decay.</summary>
    [Hyperparameter(Initial = 1e-4, Transform = Transform.Log10)]
    private Tensor weightDecay;
#pragma warning restore IDE1006, IDE0044

    private Tensor Step(Tensor weight, Tensor grad, ref Tensor? buffer)
    {
        var direction = grad + weightDecay * weight;
        buffer = buffer is null ? direction : momentum * buffer + direction;
        return learningRate * (direction + momentum * buffer);
    }
}
