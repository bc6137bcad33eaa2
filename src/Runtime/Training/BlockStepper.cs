using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The weight steps of a block, one call per step, for the training loop and the
/// <see cref="Tuner"/> alike: the block's first steps plain (or the tuner's own kind), its last
/// <see cref="IBlockTuner.FinishingSteps"/> the tuner's, the last of them with its hyper step.
/// Every step is taken when it is called, while the caller's batch lives.
/// </summary>
internal sealed class BlockStepper(Learner learner, IBlockTuner tuner, int stepsPerBlock)
{
    /// <summary>Steps taken in the current block.</summary>
    public int Position { get; set; }

    int Finishing => Math.Clamp(tuner.FinishingSteps, 1, stepsPerBlock);

    /// <summary>Whether the tuner has taken finishing steps of a block it has not finished (whose graphs it holds).</summary>
    public bool Deferring => Position > stepsPerBlock - Finishing;

    /// <summary>Whether the next step ends the block (and takes the hyper step).</summary>
    public bool NextEndsBlock => Position == stepsPerBlock - 1;

    /// <summary>
    /// One weight step on <paramref name="loss"/>: its training loss per member, and on the
    /// block's last step the outcome of the hyper step. <paramref name="plain"/> takes a plain
    /// step whatever the position (a short last block). A last step that fails changes nothing
    /// and can be called again.
    /// </summary>
    public (Tensor Loss, BlockOutcome? Outcome) Step(ModelLoss loss, Func<ModelLoss> validation, bool plain = false)
    {
        if (plain || Position < stepsPerBlock - Finishing)
        {
            var taken = tuner.Step(learner, loss);
            Position = (Position + 1) % stepsPerBlock;
            return (taken, null);
        }
        if (!NextEndsBlock)
        {
            var taken = tuner.FinishingStep(learner, loss);
            Position++;
            return (taken, null);
        }
        var outcome = tuner.FinishBlock(learner, loss, validation());
        Position = 0;
        return (outcome.TrainLoss, outcome);
    }
}
