using static TorchSharp.torch;

namespace TrainTune;

/// <summary>A loss L(output, target) that returns a scalar, with a check of the shapes it accepts.</summary>
public sealed class Loss(string name, Func<Tensor, Tensor, Tensor> compute, Func<Tensor, Tensor, string?> shapeProblem)
{
    public string Name => name;

    public Tensor Compute(Tensor output, Tensor target) => compute(output, target);

    /// <summary>Why <paramref name="output"/> and <paramref name="target"/> do not fit this loss, or null.</summary>
    public string? ShapeProblem(Tensor output, Tensor target) => shapeProblem(output, target);

    /// <summary>Mean squared error; output and target must have the same shape (no silent broadcasting).</summary>
    public static Loss MeanSquaredError { get; } = new("MeanSquaredError",
        (output, target) => (output - target).square().mean(),
        (output, target) => output.shape.SequenceEqual(target.shape) ? null
            : $"the model's output has shape [{string.Join(", ", output.shape)}] but the targets have shape [{string.Join(", ", target.shape)}]; MeanSquaredError needs equal shapes (reshape the targets, e.g. to [N, 1])");

    /// <summary>
    /// Cross-entropy of logits [N, C] against class indices [N] (int64), or of logits [N, T, …, C]
    /// against indices [N, T, …] (a sequence model's output per token), the mean over every index.
    /// </summary>
    public static Loss CrossEntropy { get; } = new("CrossEntropy",
        (output, target) => output.dim() > 2
            ? nn.functional.cross_entropy(output.reshape(-1, output.shape[^1]), target.reshape(-1))
            : nn.functional.cross_entropy(output, target),
        (output, target) =>
            output.dim() < 2 ? $"CrossEntropy needs logits of shape [N, C] (or [N, T, C] per token), but the model's output has shape [{string.Join(", ", output.shape)}]"
            : !target.shape.SequenceEqual(output.shape[..^1]) ? $"CrossEntropy needs one class index per row{(output.dim() > 2 ? " and token" : "")} ([{string.Join(", ", output.shape[..^1])}]), but the targets have shape [{string.Join(", ", target.shape)}]"
            : target.dtype != ScalarType.Int64 ? $"CrossEntropy needs int64 class indices, but the targets are {target.dtype}"
            : null);
}
