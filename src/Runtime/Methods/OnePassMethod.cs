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
        return new Tuner(this, learner);
    }

    sealed class Tuner(OnePassMethod method, Learner learner) : AdamBlockTuner(learner, method.Tune, "OnePass", method.HyperLearningRate)
    {
        public override BlockOutcome FinishBlock(Learner learner, ModelLoss loss, ModelLoss validation)
        {
            using var scope = torch.NewDisposeScope();
            var step = learner.TrackedStep(loss, validation, method.NeumannTerms, Tuned);
            return Finish(learner, step.TrainLoss, step.ValidationLoss, step.Leaves, step.Hypergradient);
        }
    }
}
