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
    /// </summary>
    public static Tensor[] Of(Tensor total, IReadOnlyList<Tensor> weights, bool createGraph = false)
    {
        if (!total.requires_grad)
            throw new TrainTuneException("The training loss does not depend on the model's weights: compute it from the model being trained, outside no_grad (a loss from another model, a detached tensor or a number has no gradient).");
        try
        {
            return torch.autograd.grad([total], weights.ToArray(), retain_graph: createGraph, create_graph: createGraph).ToArray();
        }
        catch (System.Runtime.InteropServices.ExternalException e) when (e.Message.Contains("not have been used in the graph", StringComparison.Ordinal))
        {
            throw new TrainTuneException($"The training loss does not use every weight of the model ({e.Message.Split('\n')[0]}): every parameter must take part in the loss, or be left out of the model.", e);
        }
    }
}
