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
        var set = learner.Hyperparameters;
        var tuned = HyperStep.Tuned(set, Tune, "DiffThroughOpt");
        return new Tuner(this, tuned, tuned.SelectMany(h => set.Raw(h)).ToArray(), tuned.SelectMany(learner.RawNames).ToArray());
    }

    sealed class Tuner(DiffThroughOptMethod method, int[] tuned, Tensor[] leaves, string[] leafNames) : IBlockTuner
    {
        readonly HyperAdam _adam = new(method.HyperLearningRate);

        public int FinishingSteps => method.UnrolledSteps;

        public BlockOutcome FinishBlock(Learner learner, Func<ModelLoss> nextLoss, ModelLoss validation)
        {
            using var scope = torch.NewDisposeScope();
            var step = learner.UnrolledSteps(Enumerable.Range(0, method.UnrolledSteps).Select(_ => nextLoss()).ToList(), validation, tuned);
            var (norm, skipped) = HyperStep.Apply(_adam, learner, tuned, step.Leaves, step.Hypergradient);
            var validationLoss = step.ValidationLoss.to(ScalarType.Float64).cpu().data<double>().ToArray();
            return new BlockOutcome(step.TrainLosses.MoveToOuterDisposeScope(), validationLoss, norm, skipped);
        }

        public void Save(Checkpoint checkpoint) => _adam.Save(checkpoint, leafNames, leaves);

        public void Load(Checkpoint checkpoint) => _adam.Load(checkpoint, leafNames, leaves);

        public void Dispose() => _adam.Dispose();
    }
}
