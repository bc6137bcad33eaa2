using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>Small generated tasks for training tests.</summary>
internal static class Tasks
{
    /// <summary>y = tanh(0.3 x·a) + noise, 8 inputs; 400/200/200 rows.</summary>
    public static TrainingData Regression(long seed = 0)
    {
        var generator = new torch.Generator((ulong)seed);
        var direction = torch.randn(8, 1, generator: generator);
        Split Make(int rows)
        {
            var inputs = torch.randn(rows, 8, generator: generator);
            return new Split(inputs, (inputs.matmul(direction) * 0.3).tanh() + 0.05 * torch.randn(rows, 1, generator: generator));
        }
        return new TrainingData(Make(400), Make(200), Make(200));
    }

    public static nn.Module<Tensor, Tensor> Mlp() =>
        nn.Sequential(("hidden", nn.Linear(8, 16)), ("relu", nn.ReLU()), ("output", nn.Linear(16, 1)));
}
