namespace TrainTune;

/// <summary>
/// Fixed hyperparameters, except that the learning rate is multiplied by <see cref="Factor"/>
/// after every block of <see cref="StepsPerBlock"/> steps and clipped to its bounds (the paper's
/// "Random (×LR)" baseline).
/// </summary>
internal sealed record LearningRateMultiplierMethod(double Factor, int StepsPerBlock = 10, string LearningRate = "learningRate") : Method
{
    public override string Name => "LearningRateMultiplier";

    public override int StepsPerBlock { get; } = StepsPerBlock;

    /// <summary>Members of a population may differ in their factor (the paper draws it per seed).</summary>
    internal override string PopulationKey => Describe(this with { Factor = 1 });

    internal override IBlockTuner Start(Learner learner) => Start(learner, Enumerable.Repeat(Factor, learner.Members).ToArray());

    /// <summary>Member i multiplies by its own factor.</summary>
    internal override IBlockTuner Start(Learner learner, IReadOnlyList<Method> members) =>
        Start(learner, members.Select(m => ((LearningRateMultiplierMethod)m).Factor).ToArray());

    IBlockTuner Start(Learner learner, double[] factors)
    {
        if (StepsPerBlock < 1) throw new TrainTuneException($"LearningRateMultiplier: the block length must be at least 1, not {StepsPerBlock}.");
        foreach (var factor in factors)
            if (!(factor > 0) || !double.IsFinite(factor)) throw new TrainTuneException($"LearningRateMultiplier: the factor must be a positive number, not {factor}.");
        var h = learner.Hyperparameters.IndexOf(LearningRate);
        if (h < 0)
            throw new TrainTuneException($"LearningRateMultiplier needs a hyperparameter named '{LearningRate}', but the rule {learner.Rule.GetType().Name} has {string.Join(", ", learner.Rule.Hyperparameters.Select(s => s.Name))}.");
        return new Tuner(factors, h);
    }

    sealed class Tuner(double[] factors, int learningRate) : IBlockTuner
    {
        public BlockOutcome FinishBlock(Learner learner, ModelLoss trainingLoss, ModelLoss validation)
        {
            var loss = learner.UntrackedStep(trainingLoss, out _);
            // A frozen member of a population keeps its learning rate.
            learner.Hyperparameters.Scale(learningRate, factors.Select((f, i) => learner.Alive[i] ? f : 1).ToArray());
            learner.BeginBlock();
            return new BlockOutcome(loss);
        }

        public void Save(Checkpoint checkpoint) { }

        public void Load(Checkpoint checkpoint) { }

        public void Dispose() { }
    }
}
