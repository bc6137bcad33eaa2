namespace TrainTune;

/// <summary>Plain training: the hyperparameters keep their initial values.</summary>
public sealed record FixedMethod(int BlockLength) : Method
{
    public override string Name => "Fixed";

    public override int StepsPerBlock => BlockLength;

    internal override IBlockTuner Start(Learner learner)
    {
        if (BlockLength < 1) throw new TrainTuneException($"stepsPerBlock must be at least 1, not {BlockLength}.");
        return new Tuner();
    }

    sealed class Tuner : IBlockTuner
    {
        public BlockOutcome FinishBlock(Learner learner, Func<Split> nextBatch, Split validation) =>
            new(learner.UntrackedStep(nextBatch()), null, null, false);

        public void Save(Checkpoint checkpoint) { }

        public void Load(Checkpoint checkpoint) { }

        public void Dispose() { }
    }
}
