using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The weight steps of a block, one call per step, for the training loop and the
/// <see cref="Tuner"/> alike: the block's first steps plain (or the tuner's own kind), its last
/// <see cref="IBlockTuner.FinishingSteps"/> the tuner's, taken together with its hyper step on the
/// block's last call (a step the tuner takes later is kept as its loss function until then).
/// </summary>
internal sealed class BlockStepper(Learner learner, IBlockTuner tuner, int stepsPerBlock)
{
    readonly Queue<ModelLoss> _deferred = new();

    /// <summary>Steps taken in the current block.</summary>
    public int Position { get; set; }

    /// <summary>Whether steps are waiting for the block's end.</summary>
    public bool Deferring => _deferred.Count > 0;

    int Finishing => Math.Clamp(tuner.FinishingSteps, 1, stepsPerBlock);

    /// <summary>Whether the next step is one the tuner takes at the block's end.</summary>
    public bool NextIsDeferred => Position >= stepsPerBlock - Finishing && Position < stepsPerBlock - 1;

    /// <summary>Whether the next step ends the block (and takes the hyper step).</summary>
    public bool NextEndsBlock => Position == stepsPerBlock - 1;

    /// <summary>
    /// One weight step on <paramref name="loss"/>: its training loss per member now, or null when
    /// the step waits for the block's end; on the block's last step the outcome, whose TrainLoss
    /// holds the losses of the steps the tuner took. <paramref name="plain"/> takes a plain step
    /// whatever the position (a short last block).
    /// </summary>
    public (Tensor? Loss, BlockOutcome? Outcome) Step(ModelLoss loss, Func<ModelLoss> validation, bool plain = false)
    {
        if (plain || Position < stepsPerBlock - Finishing)
        {
            var taken = tuner.Step(learner, loss);
            Position = (Position + 1) % stepsPerBlock;
            return (taken, null);
        }
        if (!NextEndsBlock)
        {
            _deferred.Enqueue(loss);
            Position++;
            return (null, null);
        }
        // Nothing changes here until the tuner has finished: a step that fails can be called again.
        var pending = new Queue<ModelLoss>(_deferred.Append(loss));
        var outcome = tuner.FinishBlock(learner, pending.Dequeue, validation());
        _deferred.Clear();
        Position = 0;
        return (null, outcome);
    }
}
