using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>The one-pass implicit hypergradient method (Clarke et al., ICLR 2022); see docs/ALGORITHM.md.</summary>
internal sealed record OnePassMethod(int StepsPerBlock, int NeumannTerms, double HyperLearningRate, IReadOnlyList<string>? Tune) : Method
{
    public override string Name => "OnePass";

    public override int StepsPerBlock { get; } = StepsPerBlock;

    internal override IBlockTuner Start(Learner learner)
    {
        if (StepsPerBlock < 1) throw new TrainTuneException($"OnePass: stepsPerHyperstep must be at least 1, not {StepsPerBlock}.");
        if (NeumannTerms < 1) throw new TrainTuneException($"OnePass: neumannTerms must be at least 1, not {NeumannTerms}.");
        if (!(HyperLearningRate > 0)) throw new TrainTuneException($"OnePass: hyperLearningRate must be greater than 0, not {HyperLearningRate}.");
        var set = learner.Hyperparameters;
        var tuned = HyperStep.Tuned(set, Tune, "OnePass");
        return new Tuner(this, tuned, tuned.SelectMany(h => set.Raw(h)).ToArray(), tuned.SelectMany(learner.RawNames).ToArray());
    }

    sealed class Tuner(OnePassMethod method, int[] tuned, Tensor[] leaves, string[] leafNames) : IBlockTuner
    {
        readonly HyperAdam _adam = new(method.HyperLearningRate);

        public BlockOutcome FinishBlock(Learner learner, Func<ModelLoss> nextLoss, ModelLoss validation)
        {
            using var scope = torch.NewDisposeScope();
            var step = learner.TrackedStep(nextLoss(), validation, method.NeumannTerms, tuned);
            var (norm, skipped) = HyperStep.Apply(_adam, learner, tuned, step.Leaves, step.Hypergradient);
            var validationLoss = step.ValidationLoss.to(ScalarType.Float64).cpu().data<double>().ToArray();
            return new BlockOutcome(step.TrainLoss.MoveToOuterDisposeScope(), validationLoss, norm, skipped);
        }

        public void Save(Checkpoint checkpoint) => _adam.Save(checkpoint, leafNames, leaves);

        public void Load(Checkpoint checkpoint) => _adam.Load(checkpoint, leafNames, leaves);

        public void Dispose() => _adam.Dispose();
    }
}
