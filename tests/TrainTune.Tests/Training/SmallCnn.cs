using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>Counts the forward passes of a <see cref="SmallCnn"/>'s BatchNorm, in training mode (each updates its statistics) and in evaluation mode.</summary>
internal sealed class ForwardCounter
{
    public int Training, Evaluation;
}

/// <summary>
/// Conv2d → BatchNorm2d → ReLU → MaxPool → Dropout → Linear on 1×6×6 images, 3 classes, float64:
/// the small CNN users train, with buffers, modes and randomness.
/// </summary>
internal sealed class SmallCnn : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // RegisterComponents names the submodules after the fields
    readonly Conv2d conv;
    readonly BatchNorm2d norm;
    readonly MaxPool2d pool;
    readonly Dropout drop;
    readonly Linear output;
#pragma warning restore IDE1006
    readonly ForwardCounter? _counter;

    public SmallCnn(ForwardCounter? counter = null, double dropout = 0.25) : base(nameof(SmallCnn))
    {
        conv = nn.Conv2d(1, 3, 3, dtype: ScalarType.Float64);
        norm = nn.BatchNorm2d(3, dtype: ScalarType.Float64);
        pool = nn.MaxPool2d(2);
        drop = nn.Dropout(dropout);
        output = nn.Linear(12, 3, dtype: ScalarType.Float64);
        _counter = counter;
        RegisterComponents();
    }

    public BatchNorm2d Norm => norm;

    public override Tensor forward(Tensor input)
    {
        if (_counter is not null)
        {
            if (norm.training) _counter.Training++;
            else _counter.Evaluation++;
        }
        var features = drop.call(pool.call(nn.functional.relu(norm.call(conv.call(input)))));
        return output.call(features.flatten(1));
    }

    /// <summary>Images [rows, 1, 6, 6] and labels from a fixed rule of their quadrants' means, so that there is something to learn.</summary>
    public static Split Data(int rows, long seed)
    {
        var generator = new torch.Generator((ulong)seed);
        var images = torch.randn(rows, 1, 6, 6, dtype: ScalarType.Float64, generator: generator);
        var top = images[.., 0, ..3, ..].mean([1, 2]);
        var left = images[.., 0, .., ..3].mean([1, 2]);
        var labels = torch.where(top > 0.1, torch.tensor(0L), torch.where(left > 0, torch.tensor(1L), torch.tensor(2L)));
        return new Split(images, labels);
    }

    public static TrainingData Task() => new(Data(64, 1), Data(32, 2), Data(32, 3));
}
