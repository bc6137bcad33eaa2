using static TorchSharp.torch;

namespace TrainTune;

/// <summary>What the members of one population must share, checked before anything trains.</summary>
internal static class PopulationCheck
{
    /// <summary>
    /// Members differ only in their seed, initial values, record and the per-member parameters
    /// of their method (the learning-rate factor); anything else is an error that names it.
    /// </summary>
    public static void Members(IReadOnlyList<TuningRun> members)
    {
        if (members.Count == 0) throw new TrainTuneException("A population needs at least one member.");
        var first = members[0];
        for (var i = 1; i < members.Count; i++)
        {
            var member = members[i];
            string? Differs() =>
                !ReferenceEquals(member.ModelFactory, first.ModelFactory) ? "model factory"
                : member.Rule.GetType() != first.Rule.GetType() ? "update rule"
                : !ReferenceEquals(member.Loss, first.Loss) ? "loss"
                : member.Method.PopulationKey != first.Method.PopulationKey ? "method"
                : member.Steps != first.Steps ? "steps"
                : member.BatchSize != first.BatchSize || member.ValidationBatchSize != first.ValidationBatchSize ? "batch sizes"
                : member.Precision != first.Precision ? "precision"
                : member.Device != first.Device ? "device"
                : !SameNames(member.PerWeight, first.PerWeight) ? "per-weight hyperparameters"
                : member.MetricName != first.MetricName || member.MetricScale != first.MetricScale || !ReferenceEquals(member.Metric, first.Metric) ? "metric"
                : member.Threads != first.Threads ? "threads"
                : !Equals(member.Clipping, first.Clipping) ? "gradient clipping"
                : !SameSchedules(member.Schedules, first.Schedules) ? "schedules"
                : !SameData(member.Data, first.Data) ? "data"
                : null;
            if (Differs() is { } what)
                throw new TrainTuneException($"Member {i} of the population differs from member 0 in its {what}; the members of a population share everything but their seed, initial values, record and the learning-rate factor.");
            if (member.RecordPath is not null && members.Take(i).Any(m => m.RecordPath == member.RecordPath))
                throw new TrainTuneException($"Members of the population share the record '{member.RecordPath}'; give each member a record of its own.");
            if (member.TensorBoardPath is not null && members.Take(i).Any(m => m.TensorBoardPath == member.TensorBoardPath))
                throw new TrainTuneException($"Members of the population share the TensorBoard folder '{member.TensorBoardPath}'; give each member a folder of its own.");
        }
        foreach (var member in members)
            if (member.CheckpointPath is not null || member.Resume)
                throw new TrainTuneException("A population keeps no checkpoint: run it without CheckpointTo and ResumeFromCheckpoint (a population of small models is quick to run again).");
        var seeds = members.GroupBy(m => m.Seed).FirstOrDefault(g => g.Count() > 1 && g.Select(m => m.Method.PopulationKey + string.Join(",", m.InitialValues ?? new Dictionary<string, double>())).Distinct().Count() == 1);
        if (seeds is not null)
            throw new TrainTuneException($"Two members of the population have seed {seeds.Key} and the same initial values: they would train identically. Give each member its own seed or initial values.");
    }

    static bool SameNames(IReadOnlyCollection<string>? a, IReadOnlyCollection<string>? b) =>
        (a ?? []).Order().SequenceEqual((b ?? []).Order());

    /// <summary>The same splits: the same tensors, or equal ones (the paper's Random trains each member on its own copy of training + validation).</summary>
    static bool SameData(TrainingData? a, TrainingData? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        static bool Same(Split? x, Split? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && Equal(x.Inputs, y.Inputs) && Equal(x.Targets, y.Targets));
        static bool Equal(Tensor x, Tensor y) => ReferenceEquals(x, y) || (x.shape.SequenceEqual(y.shape) && x.dtype == y.dtype && x.eq(y).all().item<bool>());
        return Same(a.Train, b.Train) && Same(a.Validation, b.Validation) && Same(a.Test, b.Test);
    }

    static bool SameSchedules(IReadOnlyDictionary<string, Schedule>? a, IReadOnlyDictionary<string, Schedule>? b)
    {
        IReadOnlyDictionary<string, Schedule> none = new Dictionary<string, Schedule>();
        (a, b) = (a ?? none, b ?? none);
        return a.Count == b.Count && a.All(s => b.TryGetValue(s.Key, out var other) && ReferenceEquals(s.Value, other));
    }
}
