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

    internal override IBlockTuner Start(Learner learner)
    {
        if (StepsPerBlock < 1) throw new TrainTuneException($"LearningRateMultiplier: the block length must be at least 1, not {StepsPerBlock}.");
        if (!(Factor > 0) || !double.IsFinite(Factor)) throw new TrainTuneException($"LearningRateMultiplier: the factor must be a positive number, not {Factor}.");
        var h = learner.Hyperparameters.IndexOf(LearningRate);
        if (h < 0)
            throw new TrainTuneException($"LearningRateMultiplier needs a hyperparameter named '{LearningRate}', but the rule {learner.Rule.GetType().Name} has {string.Join(", ", learner.Rule.Hyperparameters.Select(s => s.Name))}.");
        return new Tuner(this, h);
    }

    sealed class Tuner(LearningRateMultiplierMethod method, int learningRate) : IBlockTuner
    {
        public BlockOutcome FinishBlock(Learner learner, Func<Split> nextBatch, Split validation)
        {
            var loss = learner.UntrackedStep(nextBatch());
            learner.Hyperparameters.Scale(learningRate, method.Factor);
            learner.BeginBlock();
            return new BlockOutcome(loss, null, null, false);
        }

        public void Save(Checkpoint checkpoint) { }

        public void Load(Checkpoint checkpoint) { }

        public void Dispose() { }
    }
}
