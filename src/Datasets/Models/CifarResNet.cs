using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The residual network of He et al. for 32 × 32 images (CIFAR): a 3 × 3 stem (not ImageNet's
/// 7 × 7 stride-2 one with max-pooling), three stages of basic blocks (two 3 × 3 convolutions with
/// BatchNorm and a shortcut) at widths w, 2w, 4w, the second and third halving the resolution,
/// global average pooling and a linear classifier. <c>new CifarResNet(16, 3)</c> is ResNet-20;
/// <c>new CifarResNet(16, 1)</c> (ResNet-8) tunes on a CPU in minutes.
/// </summary>
public sealed class CifarResNet : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // RegisterComponents names the submodules after the fields
    readonly Sequential stem, stages;
    readonly Linear classifier;
#pragma warning restore IDE1006

    /// <param name="width">Channels of the first stage (the others have 2w and 4w).</param>
    /// <param name="blocksPerStage">Basic blocks per stage: the depth is 6n + 2.</param>
    /// <param name="classes">Outputs of the classifier.</param>
    public CifarResNet(int width = 16, int blocksPerStage = 1, int classes = 10) : base(nameof(CifarResNet))
    {
        if (width < 1 || blocksPerStage < 1 || classes < 1)
            throw new TrainTuneException($"A CifarResNet needs a positive width, blocks per stage and classes; got {width}, {blocksPerStage}, {classes}.");
        stem = nn.Sequential(nn.Conv2d(3, width, 3, padding: 1, bias: false), nn.BatchNorm2d(width), nn.ReLU());
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        foreach (var (stage, channels) in new[] { width, 2 * width, 4 * width }.Select((c, s) => (s, c)))
            for (var b = 0; b < blocksPerStage; b++)
            {
                var inputs = b > 0 ? channels : stage == 0 ? width : channels / 2;
                blocks.Add(new Block(inputs, channels, b == 0 && stage > 0 ? 2 : 1));
            }
        stages = nn.Sequential(blocks);
        classifier = nn.Linear(4 * width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        classifier.call(nn.functional.adaptive_avg_pool2d(stages.call(stem.call(input)), 1).flatten(1));

    /// <summary>ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x)); the shortcut a strided 1 × 1 convolution with BatchNorm where the shape changes.</summary>
    sealed class Block : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE1006
        readonly Sequential body;
        readonly nn.Module<Tensor, Tensor> shortcut;
#pragma warning restore IDE1006

        public Block(int inputs, int outputs, int stride) : base(nameof(Block))
        {
            body = nn.Sequential(
                nn.Conv2d(inputs, outputs, 3, stride: stride, padding: 1, bias: false), nn.BatchNorm2d(outputs), nn.ReLU(),
                nn.Conv2d(outputs, outputs, 3, padding: 1, bias: false), nn.BatchNorm2d(outputs));
            shortcut = stride == 1 && inputs == outputs
                ? nn.Identity()
                : nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride: stride, bias: false), nn.BatchNorm2d(outputs));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => nn.functional.relu(body.call(input) + shortcut.call(input));
    }
}
