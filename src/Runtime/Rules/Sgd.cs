using static TorchSharp.torch;

namespace TrainTune;

/// <summary>Plain SGD: u = η ⊙ g.</summary>
[WeightUpdate]
public sealed partial class Sgd
{
#pragma warning disable IDE1006, IDE0044 // [Hyperparameter] fields are named as the hyperparameters they declare, and the generated code assigns them
    /// <summary>Step size η.</summary>
    [Hyperparameter(Initial = 1e-2, Transform = Transform.Log10, Min = 1e-10, Max = 1)]
    private Tensor learningRate;
#pragma warning restore IDE1006, IDE0044

    /// <param name="learningRate">η, tuned in log10 space and clamped to [1e-10, 1].</param>
    /// <param name="perWeightLearningRate">One learning rate per weight instead of one in all.</param>
    public Sgd(double learningRate = 1e-2, bool perWeightLearningRate = false)
    {
        SetInitial(nameof(this.learningRate), learningRate);
        SetPerWeight(nameof(this.learningRate), perWeightLearningRate);
    }

    private Tensor Step(Tensor weight, Tensor grad) => learningRate * grad;
}
