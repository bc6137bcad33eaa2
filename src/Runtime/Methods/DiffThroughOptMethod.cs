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
        return new Tuner(this, learner);
    }

    sealed class Tuner(DiffThroughOptMethod method, Learner learner) : AdamBlockTuner(learner, method.Tune, "DiffThroughOpt", method.HyperLearningRate)
    {
        public override int FinishingSteps => method.UnrolledSteps;

        public override BlockOutcome FinishBlock(Learner learner, Func<ModelLoss> nextLoss, ModelLoss validation)
        {
            using var scope = torch.NewDisposeScope();
            var step = learner.UnrolledSteps(Enumerable.Range(0, method.UnrolledSteps).Select(_ => nextLoss()).ToList(), validation, Tuned);
            return Finish(learner, step.TrainLosses, step.ValidationLoss, step.Leaves, step.Hypergradient);
        }
    }
}
