using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The learner's part of a checkpoint: weights, buffers, the rule's state and the raw
/// hyperparameters, each under its name, so that a model whose layers were renamed or reordered
/// cannot load into the wrong tensors.
/// </summary>
internal static class LearnerCheckpoint
{
    /// <summary>Writes the learner into <paramref name="checkpoint"/>.</summary>
    /// <param name="weights">Also the weights (a run's checkpoint); without them, the tuning state and the buffers (a tuner's: its steps update BatchNorm's statistics, so a resume needs them as the weights' owner saves them).</param>
    public static void Save(this Learner learner, Checkpoint checkpoint, bool weights = true)
    {
        var names = learner.WeightNames;
        var stateNames = learner.Rule.StateNames;
        checkpoint.Progress = checkpoint.Progress with { Rule = RuleName(learner.Rule) };
        // A rule evaluated elsewhere (Schedule-Free) saves its evaluation point as the weights, and
        // the training point beside them so that a resume continues exactly.
        var evaluated = weights && learner.Point.Differs;
        if (evaluated)
            for (var k = 0; k < names.Count; k++) checkpoint.Put($"trainingpoint/{names[k]}", learner.Weights[k]);
        using var evaluationPoint = weights ? learner.AtEvaluationPoint() : null;
        for (var k = 0; k < names.Count; k++)
        {
            // A copy of the evaluation point: the weights go back to y when this returns.
            if (weights) checkpoint.Put($"weight/{names[k]}", evaluated ? learner.Weights[k].detach().clone() : learner.Weights[k]);
            for (var s = 0; s < stateNames.Count; s++) checkpoint.Put($"state/{names[k]}/{stateNames[s]}", learner.State[k, s]);
        }
        foreach (var (name, buffer) in learner.Model.named_buffers()) checkpoint.Put($"buffer/{name}", buffer);
        var hyperparameters = learner.Hyperparameters;
        for (var h = 0; h < hyperparameters.Specs.Count; h++)
            foreach (var (slot, r) in hyperparameters.Stored(h).Select((slot, r) => (slot, r)))
            {
                var name = learner.SlotName(h, slot.Weight, slot.Group);
                checkpoint.Put($"raw/{name}", slot.Raw);
                // A held slot's exact values (its raw value rounds them, or is infinite).
                if (hyperparameters.Held(h, r) is { } held)
                    using (var values = torch.tensor(held.ToArray(), dtype: ScalarType.Float64)) checkpoint.Put($"held/{name}", values);
            }
    }

    /// <summary>
    /// Restores what <see cref="Save"/> wrote; a checkpoint with other names or shapes is refused
    /// with what differs, before anything changes.
    /// </summary>
    public static void Load(this Learner learner, Checkpoint checkpoint, bool weights = true)
    {
        var names = learner.WeightNames;
        var stateNames = learner.Rule.StateNames;
        var hyperparameters = learner.Hyperparameters;
        // Rules with the same state and hyperparameter names (Adam and AdamW) would load into each other.
        if (checkpoint.Progress.Rule is { } saved && saved != RuleName(learner.Rule))
            throw new TrainTuneException($"The checkpoint holds the state of the rule {saved}, but this run's rule is {RuleName(learner.Rule)}: resume with a {saved}, or delete the checkpoint to start afresh.");
        if (weights) checkpoint.RequireNames("weight", "weights", names);
        checkpoint.RequireNames("state", "rule state", names.SelectMany(w => stateNames.Select(s => $"{w}/{s}")).ToArray());
        // A tuner's state saved before buffers were kept has none: the model's stay as they are.
        var buffers = weights || checkpoint.Tensors.Keys.Any(k => k.StartsWith("buffer/", StringComparison.Ordinal));
        if (buffers) checkpoint.RequireNames("buffer", "buffers", learner.Model.named_buffers().Select(b => b.name).ToArray());
        var slots = Enumerable.Range(0, hyperparameters.Specs.Count)
            .SelectMany(h => hyperparameters.Stored(h).Select((slot, r) => (h, r, slot.Raw, Name: learner.SlotName(h, slot.Weight, slot.Group)))).ToArray();
        checkpoint.RequireNames("raw", "hyperparameters", slots.Select(s => s.Name).ToArray());
        var device = learner.Weights[0].device;
        // Every tensor read and checked first, so that a wrong one changes nothing.
        var copies = new List<(Tensor Target, Tensor Source)>();
        if (weights)
        {
            var trainingPoint = learner.Point.Differs ? "trainingpoint" : "weight";
            if (learner.Point.Differs) checkpoint.RequireNames(trainingPoint, "training points", names);
            for (var k = 0; k < names.Count; k++) copies.Add((learner.Weights[k], Required(checkpoint, $"{trainingPoint}/{names[k]}", device, learner.Weights[k])));
        }
        if (buffers)
            foreach (var (name, buffer) in learner.Model.named_buffers()) copies.Add((buffer, Required(checkpoint, $"buffer/{name}", device, buffer)));
        foreach (var slot in slots) copies.Add((slot.Raw, Required(checkpoint, $"raw/{slot.Name}", device, slot.Raw)));
        var held = slots.Select(s => checkpoint.Tensors.GetValueOrDefault($"held/{s.Name}") is { } values ? values.to(ScalarType.Float64).data<double>().ToArray() : null).ToArray();
        foreach (var (values, slot) in held.Zip(slots).Where(x => x.First is not null && x.First.Length != hyperparameters.Members))
            throw new TrainTuneException($"The checkpoint holds '{slot.Name}' for {values!.Length} members, but the run has {hyperparameters.Members}; delete the checkpoint to start afresh.");
        var states = names.Select(w => stateNames.Select(s => checkpoint.Get($"state/{w}/{s}", device)).ToArray()).ToArray();
        for (var k = 0; k < names.Count; k++)
            foreach (var (state, s) in states[k].Select((state, s) => (state, s)))
            {
                var expected = learner.Rule is ISlicedState sliced ? sliced.Shape(s, learner.Weights[k].shape, learner.Layout) : learner.Weights[k].shape;
                if (state is not null && state.dim() > 0 && !state.shape.SequenceEqual(expected))
                    throw new TrainTuneException($"The saved rule state of '{names[k]}' has shape {TrainingData.Shape(state)} but the weight has {TrainingData.Shape(learner.Weights[k])}: it was saved from a different model.");
            }
        using (torch.no_grad())
        {
            foreach (var (target, source) in copies) target.copy_(source);
            learner.State.Replace(states);
        }
        for (var i = 0; i < slots.Length; i++)
            if (held[i] is { } values) hyperparameters.Restore(slots[i].h, slots[i].r, values);
            else hyperparameters.HoldRaw(slots[i].h, slots[i].r);
        // The schedules' step.
        learner.StepsTaken = checkpoint.Progress.StepsDone;
        learner.BeginBlock();
    }

    static string RuleName(IWeightUpdate rule) => rule.GetType().FullName ?? rule.GetType().Name;

    static Tensor Required(Checkpoint checkpoint, string name, Device device, Tensor like)
    {
        var tensor = checkpoint.Get(name, device) ?? throw new TrainTuneException($"The checkpoint's '{name}' is empty; delete the checkpoint to start afresh.");
        if (!tensor.shape.SequenceEqual(like.shape))
            throw new TrainTuneException($"The checkpoint's '{name}' has shape {TrainingData.Shape(tensor)} but the run needs {TrainingData.Shape(like)}: it was written by a different model. Delete it to start afresh.");
        return tensor;
    }
}
