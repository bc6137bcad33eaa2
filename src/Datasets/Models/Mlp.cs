using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>A multilayer perceptron with ReLU between its linear layers: <c>new Mlp(8, 50, 1)</c>.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>, ILayerSequence
{
#pragma warning disable IDE1006 // RegisterComponents names the submodule after the field: its parameters are "layers.…"
    readonly nn.Module<Tensor, Tensor> layers;
#pragma warning restore IDE1006

    /// <param name="sizes">Input size, hidden sizes, output size (at least two numbers).</param>
    public Mlp(params int[] sizes) : base(nameof(Mlp))
    {
        if (sizes.Length < 2 || sizes.Any(s => s < 1))
            throw new TrainTuneException($"An Mlp needs at least an input and an output size, all positive; got [{string.Join(", ", sizes)}].");
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i + 1 < sizes.Length; i++)
        {
            modules.Add(($"linear{i}", nn.Linear(sizes[i], sizes[i + 1])));
            if (i + 2 < sizes.Length) modules.Add(($"relu{i}", nn.ReLU()));
        }
        layers = nn.Sequential(modules);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => layers.call(input);

    // Its forward pass is its layers in order, so a population can stack it.
    nn.Module<Tensor, Tensor> ILayerSequence.Layers => layers;
}
