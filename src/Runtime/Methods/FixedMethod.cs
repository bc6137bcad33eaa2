namespace TrainTune;

/// <summary>Plain training: the hyperparameters keep their initial values.</summary>
internal sealed record FixedMethod(int StepsPerBlock) : Method
{
    public override string Name => "Fixed";

    public override int StepsPerBlock { get; } = StepsPerBlock;

    internal override IBlockTuner Start(Learner learner)
    {
        if (StepsPerBlock < 1) throw new TrainTuneException($"stepsPerBlock must be at least 1, not {StepsPerBlock}.");
        return new Tuner();
    }

    sealed class Tuner : IBlockTuner
    {
        public BlockOutcome FinishBlock(Learner learner, ModelLoss loss, ModelLoss validation) =>
            new(learner.UntrackedStep(loss, out _));

        public void Save(Checkpoint checkpoint) { }

        public void Load(Checkpoint checkpoint) { }

        public void Dispose() { }
    }
}
