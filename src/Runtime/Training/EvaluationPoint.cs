using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Where a rule's losses are evaluated: at the weights it trains (every rule but Schedule-Free),
/// or at a point computed from them and its state (Schedule-Free trains at y and is evaluated at
/// its average x). The one place that asks whether a rule is an <see cref="IEvaluationPoint"/>.
/// </summary>
internal abstract class EvaluationPoint
{
    public static EvaluationPoint For(IWeightUpdate rule) => rule is IEvaluationPoint { Differs: true } point ? new Averaged(point) : new AtWeights();

    /// <summary>Whether the evaluation point differs from the weights (and checkpoints keep both).</summary>
    public abstract bool Differs { get; }

    /// <summary>
    /// L_V at the evaluation point of the new weights <paramref name="newWeights"/> and the new
    /// state <paramref name="states"/> (graph kept): the loss, ∂L_V/∂w' and the direct term.
    /// </summary>
    public abstract (Tensor Loss, Tensor[] WeightGradients, Tensor[] Direct) Validate(Learner learner, IReadOnlyList<Tensor> newWeights,
        Tensor[][] values, Tensor?[][] states, ModelLoss validation, Tensor[] leaves);

    /// <summary>
    /// Moves the model's weights to the evaluation point until disposed, so that every reported loss
    /// and a checkpoint's weights are there.
    /// </summary>
    public abstract IDisposable Enter(Learner learner);

    sealed class AtWeights : EvaluationPoint
    {
        public override bool Differs => false;

        public override (Tensor, Tensor[], Tensor[]) Validate(Learner learner, IReadOnlyList<Tensor> newWeights, Tensor[][] values, Tensor?[][] states, ModelLoss validation, Tensor[] leaves) =>
            ShadowValidation.At(learner, newWeights, values, validation, leaves);

        public override IDisposable Enter(Learner learner) => new Restore(null, null);
    }

    sealed class Averaged(IEvaluationPoint point) : EvaluationPoint
    {
        public override bool Differs => true;

        /// <summary>
        /// x(y', state', λ) from the new training point y', the new state and the values; L_V at x on
        /// the shadow; ∂L_V/∂y' = (∂x/∂y')ᵀ ∂L_V/∂x, and the direct term gains (∂x/∂λ)ᵀ ∂L_V/∂x.
        /// </summary>
        public override (Tensor, Tensor[], Tensor[]) Validate(Learner learner, IReadOnlyList<Tensor> newWeights, Tensor[][] values, Tensor?[][] states, ModelLoss validation, Tensor[] leaves)
        {
            var y = newWeights.Select(w => w.detach().requires_grad_(true)).ToArray();
            var x = point.EvaluationWeights(y, learner.RuleValues(values), states);
            Tensor[] atX;
            using (torch.no_grad()) atX = x.Select(t => t.detach()).ToArray();
            var (loss, gradientAtX, direct) = ShadowValidation.At(learner, atX, values, validation, leaves);
            var back = torch.autograd.grad(x, [.. y, .. leaves], gradientAtX, retain_graph: true, allow_unused: true);
            var v = y.Select((w, k) => Gradients.OrZeros(back[k], w)).ToArray();
            var throughX = leaves.Select((leaf, j) => direct[j] + Gradients.OrZeros(back[y.Length + j], leaf)).ToArray();
            // The weights continue from the training point; the shadow's copy is taken from y', not x.
            using (torch.no_grad())
                for (var k = 0; k < learner.ShadowWeights.Count; k++) learner.ShadowWeights[k].copy_(newWeights[k]);
            return (loss, v, throughX);
        }

        public override IDisposable Enter(Learner learner)
        {
            if (learner.State.Empty) return new Restore(null, null);
            using var _ = torch.no_grad();
            var weights = learner.Weights;
            var training = weights.Select(w => w.detach().clone().DetachFromDisposeScope()).ToArray();
            using var scope = torch.NewDisposeScope();
            // The current values: after a hyper step, the β the next step will assume.
            var x = point.EvaluationWeights(weights.Select(w => w.detach()).ToArray(), learner.RuleValues(learner.Hyperparameters.Values()), learner.State.Copy());
            for (var k = 0; k < weights.Count; k++) weights[k].copy_(x[k]);
            return new Restore(weights, training);
        }
    }

    sealed class Restore(IReadOnlyList<Tensor>? weights, Tensor[]? training) : IDisposable
    {
        public void Dispose()
        {
            if (weights is null || training is null) return;
            using var _ = torch.no_grad();
            for (var k = 0; k < weights.Count; k++) weights[k].copy_(training[k]);
            foreach (var t in training) t.Dispose();
        }
    }
}
