using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// L_V at new weights on the learner's shadow model: no parameter of the trained model changes
/// while a graph still holds it (docs/ALGORITHM.md, "A block").
/// </summary>
internal static class ShadowValidation
{
    /// <summary>
    /// L_V at <paramref name="newWeights"/>: the loss, ∂L_V/∂w at the new weights, and the direct
    /// term ∂L_V/∂x for each of <paramref name="leaves"/> (zeros unless the model is an
    /// ITunableModel, whose hyperparameters appear in its forward pass). The shadow runs in
    /// evaluation mode with the model's buffers.
    /// </summary>
    public static (Tensor Loss, Tensor[] WeightGradients, Tensor[] Direct) At(Learner learner, IReadOnlyList<Tensor> newWeights, Tensor[][] values, ModelLoss validation, Tensor[] leaves)
    {
        var shadowWeights = learner.ShadowWeights;
        var weights = learner.Weights;
        using (torch.no_grad())
        {
            for (var k = 0; k < shadowWeights.Count; k++) shadowWeights[k].copy_(newWeights[k]);
            foreach (var (shadowBuffer, buffer) in learner.Shadow.buffers().Zip(learner.Model.buffers())) shadowBuffer.copy_(buffer);
        }
        learner.SetModelHyperparameters(learner.Shadow, values);
        var loss = learner.Checked(validation(learner.Shadow), "validation loss");
        if (!Learner.Total(loss).requires_grad)
            throw new TrainTuneException("The validation loss does not use the model it is given: compute it from that model (m => lossFn(m.call(xv), yv)), which holds the new weights, not from the model being trained or a detached tensor.");
        var directInputs = learner.Model is ITunableModel ? leaves : [];
        var grads = torch.autograd.grad([Learner.Total(loss)], [.. shadowWeights, .. directInputs], allow_unused: true);
        if (grads.Take(weights.Count).All(g => g is null || g.IsInvalid))
            throw new TrainTuneException("The validation loss does not use the model it is given: compute it from that model (m => lossFn(m.call(xv), yv)), which holds the new weights, not from the model being trained.");
        var weightGradients = grads.Take(weights.Count).Select((g, k) => Gradients.OrZeros(g, weights[k])).ToArray();
        var direct = leaves.Select((leaf, j) => directInputs.Length > 0 ? Gradients.OrZeros(grads[weights.Count + j], leaf) : torch.zeros_like(leaf)).ToArray();
        return (loss, weightGradients, direct);
    }
}
