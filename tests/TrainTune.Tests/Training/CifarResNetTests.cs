using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

public class CifarResNetTests
{
    /// <summary>Parameters of a basic block by hand: two 3×3 convolutions without bias, two BatchNorms, and a projection where the shape changes.</summary>
    static long Block(long inputs, long outputs) =>
        inputs * outputs * 9 + 2 * outputs + outputs * outputs * 9 + 2 * outputs + (inputs == outputs ? 0 : inputs * outputs + 2 * outputs);

    [Theory]
    [InlineData(16, 1)]
    [InlineData(16, 3)]
    [InlineData(8, 2)]
    public void Its_layers_are_those_of_he_et_al_for_cifar(int width, int blocks)
    {
        using var model = new CifarResNet(width, blocks);
        long expected = 3 * width * 9 + 2 * width + 4 * width * 10 + 10;
        foreach (var channels in new[] { width, 2 * width, 4 * width })
            for (var b = 0; b < blocks; b++)
                expected += Block(b > 0 || channels == width ? channels : channels / 2, channels);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
        if (width == 16 && blocks == 3) Assert.Equal(272_474, expected); // ResNet-20: the 0.27M of He et al.
        Assert.Equal([2L, 10L], model.call(torch.randn(2, 3, 32, 32)).shape);
    }

    [Fact]
    public void Bad_sizes_are_refused() => Assert.Contains("positive width", Assert.Throws<TrainTuneException>(() => new CifarResNet(0)).Message);
}
