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
    /// Takes one weight step per batch, keeping every step's graph, evaluates L_V at the final
    /// weights and back-propagates exactly through all the steps, the rule's state included, to
    /// the raw tensors of the hyperparameters <paramref name="tuned"/>; see <see cref="UnrolledBlock"/>.
    /// </summary>
    public static UnrolledStepResult UnrolledSteps(this Learner learner, IReadOnlyList<Split> batches, Split validation, IReadOnlyList<int> tuned) =>
        learner.UnrolledSteps(batches.Select(learner.LossOn).ToList(), learner.LossOn(validation), tuned);

    /// <summary>As <see cref="UnrolledSteps(Learner, IReadOnlyList{Split}, Split, IReadOnlyList{int})"/>, with the losses as functions of a model.</summary>
    public static UnrolledStepResult UnrolledSteps(this Learner learner, IReadOnlyList<ModelLoss> batches, ModelLoss validation, IReadOnlyList<int> tuned)
    {
        if (batches.Count == 0) throw new TrainTuneException("Diff-through-Opt needs at least one step to unroll.");
        using var block = new UnrolledBlock(learner, tuned, batches.Count);
        foreach (var loss in batches.Take(batches.Count - 1)) block.Take(loss);
        return block.Finish(batches[^1], validation);
    }
}

/// <summary>
/// The unrolled steps of one block, taken one at a time when the caller takes them (so that a
/// loss computed from batches in the caller's dispose scope runs while they live), each on a model
/// instance of its own so that no parameter changes under a live graph. A step is committed when
/// taken: the model's weights and buffers (BatchNorm's statistics, updated once by the step's own
/// forward pass, with its own dropout mask) move to the new ones. The rule's state before the
/// first step is a constant (truncated history); the state moves when the block finishes.
/// </summary>
internal sealed class UnrolledBlock : IDisposable
{
    readonly Learner _learner;
    readonly IReadOnlyList<nn.Module<Tensor, Tensor>> _copies;
    readonly Tensor[] _leaves;
    readonly Tensor[][] _values;
    readonly List<UnrolledHypergradient.Step> _steps = [];
    readonly List<Tensor> _losses = [];
    readonly List<Tensor> _owned = [];
    Tensor[] _current;
    Tensor?[][] _state;

    /// <param name="steps">How many steps the block unrolls (one model instance each).</param>
    public UnrolledBlock(Learner learner, IReadOnlyList<int> tuned, int steps)
    {
        if (learner.Point.Differs)
            throw new TrainTuneException($"Diff-through-Opt does not differentiate through the averaged point that {learner.Rule.GetType().Name} is evaluated at; tune it with the one-pass method (Method.OnePass).");
        _learner = learner;
        _copies = learner.Copies(steps);
        using var scope = torch.NewDisposeScope();
        foreach (var h in tuned) learner.Hyperparameters.Track(h, "DiffThroughOpt");
        _leaves = tuned.SelectMany(h => learner.Hyperparameters.Raw(h)).ToArray();
        _values = learner.Hyperparameters.Values();
        Own(_values.SelectMany(v => v));
        _current = Own(learner.Weights.Select(w => w.detach().clone()));
        _state = learner.State.Copy();
    }

    /// <summary>One step before the block's last, committed; returns its training loss per member (in the caller's scope).</summary>
    public Tensor Take(ModelLoss loss)
    {
        if (_steps.Count >= _copies.Count - 1) throw new InvalidOperationException("The block's last step is taken by Finish.");
        Pending step;
        using (torch.NewDisposeScope()) step = Compute(loss);
        Commit(step);
        return step.Loss.clone();
    }

    /// <summary>
    /// The block's last step, L_V at the weights it leads to and the hypergradient through every
    /// step; the step, the weights and the rule's state are committed only when all of it succeeded.
    /// </summary>
    public UnrolledStepResult Finish(ModelLoss loss, ModelLoss validation)
    {
        var last = Compute(loss);
        var steps = _steps.Append(last.Step).ToList();
        var (validationLoss, adjointWeights, direct) = ShadowValidation.At(_learner, last.Weights, _values, validation, _leaves, buffersFrom: _copies[_steps.Count]);
        var hypergradient = UnrolledHypergradient.Compute(steps, _leaves, adjointWeights, direct);
        Commit(last);
        _learner.State.KeepDetached(_state);
        return new UnrolledStepResult(torch.stack(_losses), Learner.PerMember(validationLoss.detach()), _leaves, hypergradient.Select(h => h.detach()).ToArray());
    }

    sealed record Pending(UnrolledHypergradient.Step Step, Tensor Loss, Tensor[] Weights, nn.Module<Tensor, Tensor> Instance);

    /// <summary>The next step on its own instance, which starts from the model's weights, buffers and modes; its tensors outlive the caller's scope.</summary>
    Pending Compute(ModelLoss loss)
    {
        var learner = _learner;
        var model = _copies[_steps.Count];
        ModelInstances.CopyModes(learner.Model, model);
        ModelInstances.CopyBuffers(learner.Model, model);
        var weights = learner.WeightsOf(model);
        using (torch.no_grad())
            for (var j = 0; j < weights.Length; j++) weights[j].copy_(_current[j]);
        // The incoming state of a later step depends on λ and w through the earlier steps.
        var first = _steps.Count == 0;
        var stateIn = _state.Select(perWeight => perWeight.Select(t => first ? t : t?.detach().requires_grad_(true)).ToArray()).ToArray();
        var stateOut = stateIn.Select(perWeight => (Tensor?[])perWeight.Clone()).ToArray();
        learner.SetModelHyperparameters(model, _values);
        var trainLoss = learner.Checked(loss(model));
        var grads = Gradients.Of(Learner.Total(trainLoss), weights, createGraph: true);
        var u = RuleCall.Updates(learner.Rule, learner.Layout, weights, learner.ForRule(grads), learner.RuleValues(_values), stateOut);
        var next = weights.Zip(u, (w, update) => (w - update).detach()).ToArray();
        if (!first) Own(stateIn.SelectMany(s => s).OfType<Tensor>());
        Own(stateOut.SelectMany((perWeight, j) => perWeight.Where((t, s) => t is not null && !ReferenceEquals(t, stateIn[j][s]))).OfType<Tensor>());
        return new Pending(new(weights, stateIn, Own(u), stateOut), Own([Learner.PerMember(trainLoss.detach())])[0], Own(next), model);
    }

    void Commit(Pending step)
    {
        _learner.StepsTaken++;
        _steps.Add(step.Step);
        _losses.Add(step.Loss);
        _current = step.Weights;
        _state = step.Step.StateOut;
        using (torch.no_grad())
            for (var j = 0; j < _learner.Weights.Count; j++) _learner.Weights[j].copy_(_current[j]);
        ModelInstances.CopyBuffers(step.Instance, _learner.Model);
    }

    T[] Own<T>(IEnumerable<T> tensors) where T : Tensor
    {
        var kept = tensors.ToArray();
        foreach (var t in kept.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
        {
            t.DetachFromDisposeScope();
            _owned.Add(t);
        }
        return kept;
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}

/// <summary>What an unrolled block gives: training losses [steps, members], L_V per member and dL_V/dx for each tuned raw tensor.</summary>
internal sealed record UnrolledStepResult(Tensor TrainLosses, Tensor ValidationLoss, IReadOnlyList<Tensor> Leaves, IReadOnlyList<Tensor> Hypergradient);
