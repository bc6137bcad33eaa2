using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

internal static class Gradients
{
    /// <summary>An autograd result, or zeros shaped like <paramref name="like"/> where the input was unused.</summary>
    public static Tensor OrZeros(Tensor? gradient, Tensor like) =>
        gradient is null || gradient.IsInvalid ? torch.zeros_like(like) : gradient;

    /// <summary>
    /// ∂<paramref name="total"/>/∂<paramref name="weights"/> (kept differentiable with
    /// <paramref name="createGraph"/>); a loss that does not come from the weights is a clear error.
    /// libtorch aborts the process (rather than throwing) on some inputs it refuses, so the call
    /// never asks it to differentiate an unused input: unused ones come back empty and are named here.
    /// </summary>
    public static Tensor[] Of(Tensor total, IReadOnlyList<Tensor> weights, bool createGraph = false)
    {
        if (!total.requires_grad)
            throw new TrainTuneException("The training loss does not depend on the model's weights: compute it from the model being trained, outside no_grad (a loss from another model, a detached tensor or a number has no gradient).");
        var grads = torch.autograd.grad([total], weights.ToArray(), retain_graph: createGraph, create_graph: createGraph, allow_unused: true).ToArray();
        var unused = Enumerable.Range(0, grads.Length).Where(k => grads[k] is null || grads[k].IsInvalid).ToList();
        if (unused.Count == grads.Length)
            throw new TrainTuneException("The training loss does not come from the model being trained: compute it from that model (in a loop of your own, from the model you gave Tuner.For, not from a copy or another instance).");
        if (unused.Count > 0)
            throw new TrainTuneException($"The training loss does not use every weight of the model (weight tensors {string.Join(", ", unused)} take no part in it): every trainable parameter must take part in the loss; freeze the others (requires_grad = false) or leave them out of the model.");
        return grads;
    }
}
