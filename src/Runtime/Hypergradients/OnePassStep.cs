using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The tracked weight step of the one-pass method (docs/ALGORITHM.md, "A block"): the step with
/// the graph of u kept, L_V at the new weights (at the rule's evaluation point), and dL_V/dx by
/// <see cref="ImplicitHypergradient"/>.
/// </summary>
internal static class OnePassStep
{
    /// <summary>
    /// Takes the step on <paramref name="batch"/>, evaluates L_V at the new weights on
    /// <paramref name="validation"/>, and returns dL_V/dx for the raw tensors of the
    /// hyperparameters <paramref name="tuned"/> with the inverse Hessian-like term truncated to
    /// <paramref name="neumannTerms"/> terms. The weights are left at w_new and the rule's state is detached.
    /// </summary>
    public static TrackedStepResult TrackedStep(this Learner learner, Split batch, Split validation, int neumannTerms, IReadOnlyList<int> tuned) =>
        learner.TrackedStep(learner.LossOn(batch), learner.LossOn(validation), neumannTerms, tuned);

    /// <summary>As <see cref="TrackedStep(Learner, Split, Split, int, IReadOnlyList{int})"/>, with the losses as functions of a model.</summary>
    public static TrackedStepResult TrackedStep(this Learner learner, ModelLoss loss, ModelLoss validationLoss, int neumannTerms, IReadOnlyList<int> tuned)
    {
        if (neumannTerms < 1) throw new TrainTuneException($"neumannTerms must be at least 1, not {neumannTerms}.");
        var weights = learner.Weights;
        foreach (var h in tuned) learner.Hyperparameters.Track(h, "OnePass");
        var leaves = tuned.SelectMany(h => learner.Hyperparameters.Raw(h)).ToArray();
        var values = learner.Hyperparameters.Values();
        learner.SetModelHyperparameters(learner.Model, values);
        var trainLoss = learner.Checked(loss(learner.Model));
        var grads = Gradients.Of(Learner.Total(trainLoss), weights, createGraph: true);

        var states = learner.State.Copy();
        var u = RuleCall.Updates(learner.Rule, learner.Layout, weights, learner.ForRule(grads), learner.RuleValues(values), states);
        if (u.Length != weights.Count)
            throw new TrainTuneException($"The update rule {learner.Rule.GetType().Name} returned {u.Length} updates for {weights.Count} weight tensors.");

        Tensor[] newWeights;
        using (torch.no_grad()) newWeights = weights.Zip(u, (w, update) => w - update).ToArray();
        var (validation, v, direct) = learner.Point.Validate(learner, newWeights, values, states, validationLoss, leaves);

        var hypergradient = ImplicitHypergradient.Compute(u, weights.ToList(), leaves, v, direct, neumannTerms);

        using (torch.no_grad())
            for (var k = 0; k < weights.Count; k++) weights[k].copy_(learner.ShadowWeights[k]);
        learner.State.KeepDetached(states);
        learner.StepsTaken++;
        return new TrackedStepResult(Learner.PerMember(trainLoss.detach()), Learner.PerMember(validation.detach()), leaves, hypergradient.Select(h => h.detach()).ToArray());
    }
}

/// <summary>What a tracked step gives: the losses per member and dL_V/dx for each tuned raw tensor.</summary>
internal sealed record TrackedStepResult(Tensor TrainLoss, Tensor ValidationLoss, IReadOnlyList<Tensor> Leaves, IReadOnlyList<Tensor> Hypergradient);
