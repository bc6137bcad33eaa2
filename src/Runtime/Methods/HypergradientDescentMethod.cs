using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Hypergradient descent (Baydin et al., the paper's "Baydin" baseline): after every weight
/// step, x = log10 η ← x − κ h with h = −∇L(w_t)·∇L(w_{t−1}) from consecutive training
/// batches, then the clamp. Other hyperparameters stay fixed.
/// </summary>
internal sealed record HypergradientDescentMethod(double HyperLearningRate = 0.001, int StepsPerBlock = 10, string LearningRate = "learningRate") : Method
{
    public override string Name => "HypergradientDescent";

    public override int StepsPerBlock { get; } = StepsPerBlock;

    internal override IBlockTuner Start(Learner learner)
    {
        if (StepsPerBlock < 1) throw new TrainTuneException($"HypergradientDescent: the block length must be at least 1, not {StepsPerBlock}.");
        if (!(HyperLearningRate > 0)) throw new TrainTuneException($"HypergradientDescent: the hyper learning rate must be greater than 0, not {HyperLearningRate}.");
        var h = learner.Hyperparameters.IndexOf(LearningRate);
        if (h < 0 || learner.Hyperparameters.Specs[h].Transform != Transform.Log10)
            throw new TrainTuneException($"HypergradientDescent (Baydin) tunes a log10 hyperparameter named '{LearningRate}', which the rule {learner.Rule.GetType().Name} does not have (it has {string.Join(", ", learner.Rule.Hyperparameters.Select(s => s.Name))}).");
        learner.Hyperparameters.Track(h, "HypergradientDescent (Baydin)");
        return new Tuner(this, h, learner.Weights[0].device, learner.WeightNames);
    }

    internal sealed class Tuner(HypergradientDescentMethod method, int learningRate, Device device, IReadOnlyList<string> weightNames) : IBlockTuner
    {
        Tensor[]? _previous;
        Tensor? _lastHypergradient;

        public Tensor Step(Learner learner, ModelLoss trainingLoss)
        {
            var loss = learner.UntrackedStep(trainingLoss, out var gradients);
            if (_previous is not null)
            {
                using var scope = torch.NewDisposeScope();
                var set = learner.Hyperparameters;
                var layout = set.Layout;
                var h = GradientAlignment.Hypergradient(gradients, _previous, layout);
                // With parameter groups each group's learning rate moves by its own weights' alignment
                // (∂L/∂η of that group); otherwise every raw tensor by the whole one, as Baydin et al.
                var grouped = set.IsGrouped(learningRate);
                var readers = grouped ? set.WeightsOfRaw(learningRate) : null;
                using (torch.no_grad())
                    foreach (var (raw, r) in set.Raw(learningRate).Select((raw, r) => (raw, r)))
                    {
                        var own = readers is null ? h : GradientAlignment.Hypergradient(readers[r].Select(k => gradients[k]).ToArray(), readers[r].Select(k => _previous[k]).ToArray(), layout);
                        // Per member; a frozen member of a population keeps its value.
                        var change = layout.SpreadTo(own.to(raw.dtype) * method.HyperLearningRate, (int)raw.dim());
                        if (learner.Alive.Any(alive => !alive))
                            change = torch.where(layout.Mask(learner.Alive, (int)raw.dim(), raw.device), change, torch.zeros_like(change));
                        raw.sub_(change);
                    }
                learner.Hyperparameters.Clamp(learningRate);
                learner.BeginBlock();
                _lastHypergradient?.Dispose();
                _lastHypergradient = h.DetachFromDisposeScope();
            }
            Keep(gradients);
            return loss;
        }

        /// <summary>h of the last update, or null before the second step (read by tests; it stays on the device until then).</summary>
        internal double? LastHypergradientValue => _lastHypergradient?.to(ScalarType.Float64).item<double>();

        public BlockOutcome FinishBlock(Learner learner, ModelLoss loss, ModelLoss validation) => new(Step(learner, loss));

        void Keep(Tensor[] gradients)
        {
            if (_previous is not null) foreach (var p in _previous) p.Dispose();
            _previous = gradients.Select(g => g.detach().clone().DetachFromDisposeScope()).ToArray();
        }

        public void Save(Checkpoint checkpoint)
        {
            if (_previous is null) return;
            for (var k = 0; k < _previous.Length; k++) checkpoint.Put($"baydin/previous/{weightNames[k]}", _previous[k]);
        }

        public void Load(Checkpoint checkpoint)
        {
            // No previous gradients before the first step; otherwise one per weight, by name.
            _previous = checkpoint.Tensors.Keys.Any(k => k.StartsWith("baydin/previous/", StringComparison.Ordinal))
                ? weightNames.Select(w => checkpoint.Get($"baydin/previous/{w}", device)!.DetachFromDisposeScope()).ToArray()
                : null;
        }

        public void Dispose()
        {
            if (_previous is not null) foreach (var p in _previous) p.Dispose();
            _lastHypergradient?.Dispose();
        }
    }
}
