using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Diff-through-Opt's block end: several weight steps with every step's graph kept, L_V at the
/// final weights, and the exact hypergradient by <see cref="UnrolledHypergradient"/>.
/// </summary>
internal static class DiffThroughOptStep
{
    /// <summary>
    /// Takes one weight step per batch, keeping every step's graph (each on a model instance of
    /// its own, so that no parameter changes under a live graph), evaluates L_V at the final
    /// weights and back-propagates exactly through all the steps, the rule's state included, to
    /// the raw tensors of the hyperparameters <paramref name="tuned"/>. The state from before the
    /// first step is a constant (truncated history). The weights are left at the final ones.
    /// </summary>
    public static UnrolledStepResult UnrolledSteps(this Learner learner, IReadOnlyList<Split> batches, Split validation, IReadOnlyList<int> tuned) =>
        learner.UnrolledSteps(batches.Select(learner.LossOn).ToList(), learner.LossOn(validation), tuned);

    /// <summary>As <see cref="UnrolledSteps(Learner, IReadOnlyList{Split}, Split, IReadOnlyList{int})"/>, with the losses as functions of a model (each step's runs on a model of its own).</summary>
    public static UnrolledStepResult UnrolledSteps(this Learner learner, IReadOnlyList<ModelLoss> batches, ModelLoss validation, IReadOnlyList<int> tuned)
    {
        if (batches.Count == 0) throw new TrainTuneException("Diff-through-Opt needs at least one step to unroll.");
        if (learner.Point.Differs)
            throw new TrainTuneException($"Diff-through-Opt does not differentiate through the averaged point that {learner.Rule.GetType().Name} is evaluated at; tune it with the one-pass method (Method.OnePass).");
        var copies = learner.Copies(batches.Count);
        var leaves = tuned.SelectMany(h => learner.Hyperparameters.Raw(h)).ToArray();
        var values = learner.Hyperparameters.Values();
        var current = learner.Weights.Select(w => w.detach()).ToArray();
        var state = learner.State.Copy();
        var steps = new List<UnrolledHypergradient.Step>();
        var losses = new List<Tensor>();
        for (var k = 0; k < batches.Count; k++)
        {
            var model = copies[k];
            model.train();
            var weights = learner.WeightsOf(model);
            using (torch.no_grad())
                for (var j = 0; j < weights.Length; j++) weights[j].copy_(current[j]);
            // The incoming state of a later step depends on λ and w through the earlier steps.
            var stateIn = state.Select(perWeight => perWeight.Select(t => k == 0 ? t : t?.detach().requires_grad_(true)).ToArray()).ToArray();
            var stateOut = stateIn.Select(perWeight => (Tensor?[])perWeight.Clone()).ToArray();
            learner.SetModelHyperparameters(model, values);
            var loss = learner.Checked(batches[k](model));
            var grads = Gradients.Of(Learner.Total(loss), weights, createGraph: true);
            var u = RuleCall.Updates(learner.Rule, learner.Layout, weights, grads, learner.RuleValues(values), stateOut);
            losses.Add(Learner.PerMember(loss.detach()));
            steps.Add(new(weights, stateIn, u, stateOut));
            current = weights.Zip(u, (w, update) => (w - update).detach()).ToArray();
            state = stateOut;
        }

        var (validationLoss, adjointWeights, direct) = ShadowValidation.At(learner, current, values, validation, leaves);
        var hypergradient = UnrolledHypergradient.Compute(steps, leaves, adjointWeights, direct);

        using (torch.no_grad())
            for (var j = 0; j < learner.Weights.Count; j++) learner.Weights[j].copy_(current[j]);
        learner.State.KeepDetached(state);
        return new UnrolledStepResult(torch.stack(losses), Learner.PerMember(validationLoss.detach()), leaves, hypergradient.Select(h => h.detach()).ToArray());
    }
}

/// <summary>What an unrolled block gives: training losses [steps, members], L_V per member and dL_V/dx for each tuned raw tensor.</summary>
internal sealed record UnrolledStepResult(Tensor TrainLosses, Tensor ValidationLoss, IReadOnlyList<Tensor> Leaves, IReadOnlyList<Tensor> Hypergradient);
