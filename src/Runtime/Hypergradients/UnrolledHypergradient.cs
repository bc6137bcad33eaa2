using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Diff-through-Opt's hypergradient (docs/ALGORITHM.md, "The methods"): exact reverse mode
/// through k kept steps w_{k+1} = w_k − u_k, the rule's state s included. Going back from the
/// last step, the adjoint of w_k is a_w − (∂u_k/∂w_k)ᵀ a_w + (∂s_{k+1}/∂w_k)ᵀ a_s, and each
/// step adds its −(∂u_k/∂x)ᵀ a_w + (∂s_{k+1}/∂x)ᵀ a_s to dL_V/dx.
/// </summary>
internal static class UnrolledHypergradient
{
    /// <summary>One kept step: its weights (leaves of its graph), its incoming and outgoing state, its updates.</summary>
    public sealed record Step(IReadOnlyList<Tensor> Weights, Tensor?[][] StateIn, Tensor[] Updates, Tensor?[][] StateOut);

    /// <param name="adjointWeights">∂L_V/∂w at the final weights.</param>
    /// <param name="direct">∂L_V/∂x for each leaf, the starting value of the hypergradient.</param>
    public static Tensor[] Compute(IReadOnlyList<Step> steps, Tensor[] leaves, Tensor[] adjointWeights, Tensor[] direct)
    {
        var hypergradient = direct;
        var adjointState = steps[^1].StateOut.Select(perWeight => new Tensor?[perWeight.Length]).ToArray();
        for (var k = steps.Count - 1; k >= 0; k--)
        {
            var (weights, stateIn, u, stateOut) = steps[k];
            var outputs = new List<Tensor>(u);
            var gradOutputs = new List<Tensor>(adjointWeights.Select(a => -a));
            for (var j = 0; j < stateOut.Length; j++)
                for (var s = 0; s < stateOut[j].Length; s++)
                    if (stateOut[j][s] is { requires_grad: true } next && adjointState[j][s] is { } adjoint) { outputs.Add(next); gradOutputs.Add(adjoint); }
            var stateLeaves = stateIn.SelectMany((perWeight, j) => perWeight.Select((t, s) => (j, s, t))).Where(e => e.t is { requires_grad: true }).ToList();
            var inputs = new List<Tensor>(weights);
            inputs.AddRange(stateLeaves.Select(e => e.t!));
            inputs.AddRange(leaves);
            var g = torch.autograd.grad(outputs, inputs, gradOutputs, retain_graph: k > 0, allow_unused: true);
            adjointWeights = adjointWeights.Select((a, j) => a + Gradients.OrZeros(g[j], a)).ToArray();
            adjointState = stateOut.Select(perWeight => new Tensor?[perWeight.Length]).ToArray();
            for (var e = 0; e < stateLeaves.Count; e++) adjointState[stateLeaves[e].j][stateLeaves[e].s] = Gradients.OrZeros(g[weights.Count + e], stateLeaves[e].t!);
            hypergradient = hypergradient.Select((h, j) => h + Gradients.OrZeros(g[weights.Count + stateLeaves.Count + j], leaves[j])).ToArray();
        }
        return hypergradient;
    }
}
