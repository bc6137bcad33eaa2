using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A model whose forward pass is exactly its layers in order (Mlp), so that a population can
/// run it with stacked weights.
/// </summary>
internal interface ILayerSequence
{
    nn.Module<Tensor, Tensor> Layers { get; }
}
