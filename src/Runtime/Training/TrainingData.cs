using static TorchSharp.torch;

namespace TrainTune;

/// <summary>Inputs and targets of one split; rows along the first dimension.</summary>
public sealed record Split(Tensor Inputs, Tensor Targets)
{
    public long Rows => Inputs.shape[0];
}

/// <summary>The training, validation and (optional) test splits of a task.</summary>
public sealed record TrainingData(Split Train, Split Validation, Split? Test = null)
{
    public static TrainingData From(Tensor trainInputs, Tensor trainTargets, Tensor validationInputs, Tensor validationTargets,
        Tensor? testInputs = null, Tensor? testTargets = null) =>
        new(new Split(trainInputs, trainTargets), new Split(validationInputs, validationTargets),
            testInputs is null || testTargets is null ? null : new Split(testInputs, testTargets));

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
    }

    public IEnumerable<(string Name, Split Split)> Named()
    {
        yield return ("training", Train);
        yield return ("validation", Validation);
        if (Test is not null) yield return ("test", Test);
    }

    internal static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";
}
