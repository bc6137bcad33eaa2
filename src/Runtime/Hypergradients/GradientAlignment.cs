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
    /// h = −Σ_k g_k · g'_k for the gradients of two consecutive steps, one per member of
    /// <paramref name="members"/>: a 0-d tensor for one model, [N] for stacked gradients [N, …].
    /// </summary>
    public static Tensor Hypergradient(IReadOnlyList<Tensor> gradients, IReadOnlyList<Tensor> previous, MemberLayout members) =>
        -stack(gradients.Zip(previous, (g, p) => members.Sum(g * p))).sum([0]);
}
