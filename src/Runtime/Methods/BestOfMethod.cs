namespace TrainTune;

/// <summary>
/// Best of several starts (TrainTuneStarts in the build): <see cref="Starts"/> runs of <see cref="Inner"/> as one population, start 0
/// from the run's own seed and values, start k from seed s + k·1000003 and the paper's random
/// initial values for it; the start with the lowest final validation loss is the result.
/// </summary>
internal sealed record BestOfMethod(int Starts, Method Inner) : Method
{
    public override string Name => "BestOf";

    public override int StepsPerBlock => Inner.StepsPerBlock;

    internal override IBlockTuner Start(Learner learner) =>
        throw new InvalidOperationException("BestOf trains its starts as a population; it has no tuner of its own.");
}
