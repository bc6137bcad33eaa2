using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>Inputs and targets of one split; rows along the first dimension.</summary>
public sealed record Split(Tensor Inputs, Tensor Targets)
{
    public long Rows => Inputs.shape[0];

    /// <summary>The state a window of token streams starts from and leaves its own in (see <see cref="CarriedState"/>); null for rows that stand alone.</summary>
    public CarriedState? State { get; init; }
}

/// <summary>The training, validation and (optional) test splits of a task.</summary>
public sealed record TrainingData(Split Train, Split Validation, Split? Test = null)
{
    public static TrainingData From(Tensor trainInputs, Tensor trainTargets, Tensor validationInputs, Tensor validationTargets,
        Tensor? testInputs = null, Tensor? testTargets = null) =>
        new(new Split(trainInputs, trainTargets), new Split(validationInputs, validationTargets),
            testInputs is null || testTargets is null ? null : new Split(testInputs, testTargets));

    /// <summary>
    /// Token streams for a model that carries its state from window to window
    /// (<see cref="IRecurrentModel"/>): a run's batches are the windows of the training streams in
    /// order, its validation losses those of the validation streams, each set with its own carried
    /// state (the batch sizes are the streams'); the final losses are over every window of each
    /// split, from the model's initial state. <see cref="Train"/>, <see cref="Validation"/> and
    /// <see cref="Test"/> are their first windows.
    /// </summary>
    public static TrainingData FromStreams(SequenceStreams train, SequenceStreams validation, SequenceStreams? test = null) =>
        new(train.At(0), validation.At(0), test?.At(0)) { Streams = new(train, validation, test) };

    /// <summary>The token streams of a run on sequences; null for rows.</summary>
    internal StreamSplits? Streams { get; init; }

    /// <summary>Throws a <see cref="TrainTuneException"/> when the splits do not fit together.</summary>
    public void Validate()
    {
        foreach (var (name, split) in Named())
        {
            if (split.Inputs.dim() == 0 || split.Targets.dim() == 0)
                throw new TrainTuneException($"The {name} split needs inputs and targets with a row dimension; got shapes {Shape(split.Inputs)} and {Shape(split.Targets)}.");
            if (split.Inputs.shape[0] != split.Targets.shape[0])
                throw new TrainTuneException($"The {name} split has {split.Inputs.shape[0]} input rows but {split.Targets.shape[0]} target rows; give every input row one target row.");
            if (split.Rows == 0)
                throw new TrainTuneException($"The {name} split is empty.");
            if (!split.Inputs.shape.Skip(1).SequenceEqual(Train.Inputs.shape.Skip(1)))
                throw new TrainTuneException($"The {name} inputs have shape {Shape(split.Inputs)} but the training inputs have shape {Shape(Train.Inputs)}: every split needs the same shape after the first dimension.");
            if (!split.Targets.shape.Skip(1).SequenceEqual(Train.Targets.shape.Skip(1)))
                throw new TrainTuneException($"The {name} targets have shape {Shape(split.Targets)} but the training targets have shape {Shape(Train.Targets)}: every split needs the same shape after the first dimension.");
        }
        // Before training, so that a NaN in the data never reads as a divergence (training) or as
        // hyper steps skipped for a hypergradient that is not finite (validation).
        foreach (var (name, split) in Named())
            foreach (var (part, tensor) in new[] { ("inputs", split.Inputs), ("targets", split.Targets) })
                if (NonFinite(tensor) is { } where)
                    throw new TrainTuneException($"The {name} {part} hold {where}: TrainTune trains on finite numbers only. Fix or drop those rows before training (impute a missing value, or filter the rows that hold one).");
    }

    /// <summary>
    /// Where <paramref name="tensor"/> first holds a value that is not finite, in words ("NaN at
    /// row 17, column 3 (2 such values in all)"), or null when every value is finite (or the tensor
    /// holds integers: token indices, class labels). One pass over the data, on its device.
    /// </summary>
    internal static string? NonFinite(Tensor tensor)
    {
        if (!tensor.is_floating_point() || tensor.numel() == 0) return null;
        using var scope = torch.NewDisposeScope();
        var bad = tensor.isfinite().logical_not_();
        if (!bad.any().item<bool>()) return null;
        var count = bad.sum().item<long>();
        var flat = bad.flatten().nonzero()[0, 0].item<long>();
        var value = tensor.flatten()[flat].to(ScalarType.Float64).item<double>();
        var within = tensor.shape.Skip(1).ToArray();
        var perRow = within.Aggregate(1L, (a, b) => a * b);
        var (row, rest) = (flat / perRow, flat % perRow);
        var position = new long[within.Length];
        for (var d = within.Length - 1; d >= 0; d--)
        {
            position[d] = rest % within[d];
            rest /= within[d];
        }
        var where = within.Length switch
        {
            0 => $"row {row}",
            1 => $"row {row}, column {position[0]}",
            _ => $"row {row}, position [{string.Join(", ", position)}]",
        };
        var what = double.IsNaN(value) ? "NaN" : value > 0 ? "+∞" : "−∞";
        return $"{what} at {where} (counting from 0; {count} value{(count == 1 ? " is" : "s are")} not finite in all)";
    }

    public IEnumerable<(string Name, Split Split)> Named()
    {
        yield return ("training", Train);
        yield return ("validation", Validation);
        if (Test is not null) yield return ("test", Test);
    }

    internal static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";
}

/// <summary>The stream sets of <see cref="TrainingData.FromStreams"/>.</summary>
internal sealed record StreamSplits(SequenceStreams Train, SequenceStreams Validation, SequenceStreams? Test)
{
    public StreamSplits To(Device device) => new(Train.To(device), Validation.To(device), Test?.To(device));

    public int Windows => Train.Windows + Validation.Windows + (Test?.Windows ?? 0);
}
