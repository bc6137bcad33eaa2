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
    /// The shadow holding <paramref name="weights"/> and the buffers of <paramref name="buffersFrom"/>,
    /// every layer in evaluation mode (again each time: a loss function that switched it to
    /// training mode does not leave it so). The trained model itself is never evaluated.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Load(Learner learner, IReadOnlyList<Tensor> weights, nn.Module<Tensor, Tensor> buffersFrom)
    {
        using (torch.no_grad())
            for (var k = 0; k < learner.ShadowWeights.Count; k++) learner.ShadowWeights[k].copy_(weights[k]);
        ModelInstances.CopyBuffers(buffersFrom, learner.Shadow);
        learner.Shadow.eval();
        return learner.Shadow;
    }

    /// <summary>The shadow holding the model's weights and buffers now, in evaluation mode: where every reported loss is computed.</summary>
    public static nn.Module<Tensor, Tensor> OfModel(Learner learner) => Load(learner, learner.Weights, learner.Model);

    /// <summary>
    /// L_V at <paramref name="newWeights"/>: the loss, ∂L_V/∂w at the new weights, and the direct
    /// term ∂L_V/∂x for each of <paramref name="leaves"/> (zeros unless the model is an
    /// ITunableModel, whose hyperparameters appear in its forward pass). The shadow runs in
    /// evaluation mode with the buffers of the instance that took the step.
    /// </summary>
    /// <param name="buffersFrom">The instance whose buffers the new weights go with: the model, or the unrolled copy that took the last step.</param>
    public static (Tensor Loss, Tensor[] WeightGradients, Tensor[] Direct) At(Learner learner, IReadOnlyList<Tensor> newWeights, Tensor[][] values, ModelLoss validation, Tensor[] leaves,
        nn.Module<Tensor, Tensor>? buffersFrom = null)
    {
        var shadowWeights = learner.ShadowWeights;
        var weights = learner.Weights;
        Load(learner, newWeights, buffersFrom ?? learner.Model);
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
