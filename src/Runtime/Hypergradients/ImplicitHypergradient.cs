using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The one-pass method's hypergradient (docs/ALGORITHM.md, "A block"): with u = u(λ(x), w) the
/// step whose graph is kept and v = ∂L_V/∂w' at the new weights,
/// dL_V/dx = ∂L_V/∂x − (∂u/∂x)ᵀ p, where p = Σ_{j&lt;i} ((I − ∂u/∂w)ᵀ)^j v is the Neumann
/// series for the inverse of (I − ∂u/∂w), truncated to i terms.
/// </summary>
internal static class ImplicitHypergradient
{
    /// <param name="u">The step for each weight tensor, its graph reaching <paramref name="weights"/> and <paramref name="leaves"/>; released here.</param>
    /// <param name="v">∂L_V/∂w' for each weight tensor.</param>
    /// <param name="direct">∂L_V/∂x for each leaf (zeros when x does not appear in L_V).</param>
    public static Tensor[] Compute(Tensor[] u, IList<Tensor> weights, Tensor[] leaves, Tensor[] v, Tensor[] direct, int neumannTerms)
    {
        var term = v;
        var p = v;
        for (var j = 1; j < neumannTerms; j++)
        {
            var jvp = torch.autograd.grad(u, weights, term, retain_graph: true, allow_unused: true);
            term = term.Select((t, k) => t - Gradients.OrZeros(jvp[k], t)).ToArray();
            p = p.Zip(term, (a, b) => a + b).ToArray();
        }
        if (leaves.Length == 0) return [];
        var indirect = torch.autograd.grad(u, leaves, p, retain_graph: false, allow_unused: true);
        return leaves.Select((leaf, j) => direct[j] - Gradients.OrZeros(indirect[j], leaf)).ToArray();
    }
}
