using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

internal static class Gradients
{
    /// <summary>An autograd result, or zeros shaped like <paramref name="like"/> where the input was unused.</summary>
    public static Tensor OrZeros(Tensor? gradient, Tensor like) =>
        gradient is null || gradient.IsInvalid ? torch.zeros_like(like) : gradient;
}
