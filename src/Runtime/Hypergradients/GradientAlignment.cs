using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Baydin et al.'s hypergradient of the loss with respect to log10 η, up to the factor ln 10·η
/// their method folds into its step size (docs/ALGORITHM.md, "The methods"): with
/// w_t = w_{t−1} − η ∇L(w_{t−1}), ∂L(w_t)/∂η = −∇L(w_t)·∇L(w_{t−1}), summed over weight tensors.
/// </summary>
internal static class GradientAlignment
{
    /// <summary>
    /// h = −Σ_k g_k · g'_k for the gradients of two consecutive steps: a 0-d tensor, or for a
    /// population of <paramref name="members"/> (stacked gradients [N, …]) one per member, [N].
    /// </summary>
    public static Tensor Hypergradient(IReadOnlyList<Tensor> gradients, IReadOnlyList<Tensor> previous, int? members = null) =>
        members is { } n
            ? -stack(gradients.Zip(previous, (g, p) => (g * p).reshape(n, -1).sum([1]))).sum([0])
            : -stack(gradients.Zip(previous, (g, p) => (g * p).sum())).sum();
}
