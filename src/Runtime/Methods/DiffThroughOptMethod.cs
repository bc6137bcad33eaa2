using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Diff-through-Opt (the paper's baseline): in every block, exact back-propagation through its
/// last <see cref="UnrolledSteps"/> weight steps to the hyperparameters, then an Adam step
/// (learning rate <see cref="HyperLearningRate"/>) on their raw values and the clamps.
/// </summary>
internal sealed record DiffThroughOptMethod(int StepsPerBlock, int UnrolledSteps, double HyperLearningRate, IReadOnlyList<string>? Tune) : Method
{
    public override string Name => "DiffThroughOpt";

    public override int StepsPerBlock { get; } = StepsPerBlock;

    internal override IBlockTuner Start(Learner learner)
    {
        if (UnrolledSteps < 1 || UnrolledSteps > StepsPerBlock)
            throw new TrainTuneException($"DiffThroughOpt unrolls between 1 and {StepsPerBlock} steps of each block, not {UnrolledSteps}.");
        if (!(HyperLearningRate > 0)) throw new TrainTuneException($"DiffThroughOpt: hyperLearningRate must be greater than 0, not {HyperLearningRate}.");
        // The unrolled instances are built now, outside any step's dispose scope.
        learner.Copies(UnrolledSteps);
        return new Tuner(this, learner);
    }

    sealed class Tuner(DiffThroughOptMethod method, Learner learner) : AdamBlockTuner(learner, method.Tune, "DiffThroughOpt", method.HyperLearningRate)
    {
        UnrolledBlock? _block;

        public override int FinishingSteps => method.UnrolledSteps;

        UnrolledBlock Block(Learner learner) => _block ??= new UnrolledBlock(learner, Tuned, method.UnrolledSteps);

        public override Tensor FinishingStep(Learner learner, ModelLoss loss) => Block(learner).Take(loss);

        public override BlockOutcome FinishBlock(Learner learner, ModelLoss loss, ModelLoss validation)
        {
            using var scope = torch.NewDisposeScope();
            var block = Block(learner);
            var step = block.Finish(loss, validation);
            // Finished: the steps' graphs go; a block that failed is kept for the caller to finish again.
            block.Dispose();
            _block = null;
            return Finish(learner, step.TrainLosses[^1], step.ValidationLoss, step.Leaves, step.Hypergradient);
        }

        public override void Dispose()
        {
            _block?.Dispose();
            base.Dispose();
        }
    }
}
