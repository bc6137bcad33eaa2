using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>The one-pass implicit hypergradient method (Clarke et al., ICLR 2022); see ALGORITHM.md.</summary>
public sealed record OnePassMethod(int StepsPerHyperstep, int NeumannTerms, double HyperLearningRate, IReadOnlyList<string>? Tune) : Method
{
    public override string Name => "OnePass";

    public override int StepsPerBlock => StepsPerHyperstep;

    internal override IBlockTuner Start(Learner learner)
    {
        if (StepsPerHyperstep < 1) throw new TrainTuneException($"OnePass: stepsPerHyperstep must be at least 1, not {StepsPerHyperstep}.");
        if (NeumannTerms < 1) throw new TrainTuneException($"OnePass: neumannTerms must be at least 1, not {NeumannTerms}.");
        if (!(HyperLearningRate > 0)) throw new TrainTuneException($"OnePass: hyperLearningRate must be greater than 0, not {HyperLearningRate}.");
        var set = learner.Hyperparameters;
        var tuned = Tune is null
            ? Enumerable.Range(0, set.Specs.Count).ToArray()
            : Tune.Select(name => set.IndexOf(name) is var h and >= 0 ? h
                : throw new TrainTuneException($"OnePass cannot tune '{name}': the run's hyperparameters are {string.Join(", ", set.Specs.Select(s => s.Name))}.")).ToArray();
        return new Tuner(this, tuned, tuned.SelectMany(h => set.Raw(h)).ToArray());
    }

    sealed class Tuner(OnePassMethod method, int[] tuned, Tensor[] leaves) : IBlockTuner
    {
        readonly HyperAdam _adam = new(method.HyperLearningRate);

        public BlockOutcome FinishBlock(Learner learner, Split batch, Split validation)
        {
            using var scope = torch.NewDisposeScope();
            var step = learner.TrackedStep(batch, validation, method.NeumannTerms, tuned);
            var squares = step.Hypergradient.Select(g => g.square().sum().to(ScalarType.Float64)).ToArray();
            var norm = squares.Length == 0 ? 0.0 : Math.Sqrt(torch.stack(squares).sum().item<double>());
            var skipped = !double.IsFinite(norm);
            if (!skipped)
            {
                _adam.Step(step.Leaves, step.Hypergradient);
                foreach (var h in tuned) learner.Hyperparameters.Clamp(h);
            }
            learner.BeginBlock();
            var validationLoss = step.ValidationLoss.to(ScalarType.Float64).item<double>();
            return new BlockOutcome(step.TrainLoss.MoveToOuterDisposeScope(), validationLoss, norm, skipped);
        }

        public void Save(Checkpoint checkpoint) => _adam.Save(checkpoint, leaves);

        public void Load(Checkpoint checkpoint) => _adam.Load(checkpoint, leaves);

        public void Dispose() => _adam.Dispose();
    }
}
