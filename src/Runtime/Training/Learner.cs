using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TrainTune;

/// <summary>
/// A model being trained by an update rule under a set of hyperparameters: the weight steps
/// (untracked, and tracked with the implicit hypergradient), evaluation, and the per-weight
/// state of the rule. A shadow instance of the model evaluates the validation loss at the
/// new weights, so that no parameter changes while the graph of u still holds it.
/// </summary>
internal sealed class Learner : IDisposable
{
    readonly Module<Tensor, Tensor> _model;
    readonly Module<Tensor, Tensor> _shadow;
    readonly Parameter[] _weights;
    readonly Parameter[] _shadowWeights;
    readonly Tensor?[][] _state;
    readonly int _ruleHyperparameterCount;
    Tensor[][]? _blockValues;
    readonly Func<Module<Tensor, Tensor>>? _copyFactory;
    readonly List<Module<Tensor, Tensor>> _copies = [];
    readonly PopulationLoss? _memberLoss;

    /// <param name="model">The model to train; its parameters are the weights.</param>
    /// <param name="shadow">A second instance of the same model (same parameter names and shapes).</param>
    /// <param name="initialValues">Initial values that replace the specs' defaults, by name.</param>
    /// <param name="perWeight">Hyperparameters to hold one value per weight whatever their spec says.</param>
    /// <param name="copyFactory">Builds further instances of the model (same dtype and device), for methods that unroll several steps.</param>
    /// <param name="memberInitialValues">For a population (a <see cref="PopulationModel"/>): each member's initial values; <paramref name="initialValues"/> is then unused.</param>
    public Learner(Module<Tensor, Tensor> model, Module<Tensor, Tensor> shadow, IWeightUpdate rule, Loss loss,
        IReadOnlyDictionary<string, double>? initialValues = null, IReadOnlyCollection<string>? perWeight = null,
        Func<Module<Tensor, Tensor>>? copyFactory = null, IReadOnlyList<IReadOnlyDictionary<string, double>?>? memberInitialValues = null)
    {
        _copyFactory = copyFactory;
        _model = model;
        _shadow = shadow;
        Loss = loss;
        var named = model.named_parameters().ToArray();
        if (named.Length == 0)
            throw new TrainTuneException($"The model {model.GetType().Name} has no parameters: register its layers as fields (or with register_module) so that there is something to train.");
        WeightNames = model is PopulationModel population ? population.WeightNames : named.Select(p => p.name).ToArray();
        _weights = named.Select(p => p.parameter).ToArray();
        var shadowNamed = shadow.named_parameters().ToArray();
        if (!shadowNamed.Select(p => (p.name, string.Join(",", p.parameter.shape))).SequenceEqual(named.Select(p => (p.name, string.Join(",", p.parameter.shape)))))
            throw new TrainTuneException("The model factory built two models with different parameters; it must build the same architecture every time it is called.");
        _shadowWeights = shadowNamed.Select(p => p.parameter).ToArray();
        _state = _weights.Select(_ => new Tensor?[rule.StateNames.Count]).ToArray();

        var specs = rule.Hyperparameters.ToList();
        _ruleHyperparameterCount = specs.Count;
        if (model is ITunableModel tunable) specs.AddRange(tunable.Hyperparameters);
        if (perWeight is not null)
        {
            foreach (var name in perWeight.Where(n => specs.Take(_ruleHyperparameterCount).All(s => s.Name != n)))
                throw new TrainTuneException($"'{name}' cannot be per weight: the rule {rule.GetType().Name} has no hyperparameter of that name (it has {string.Join(", ", rule.Hyperparameters.Select(h => h.Name))}).");
            specs = specs.Select((s, h) => h < _ruleHyperparameterCount && perWeight.Contains(s.Name) ? s with { PerWeight = true } : s).ToList();
        }
        var first = _weights[0];
        var shapes = _weights.Select(w => w.shape).ToArray();
        if (model is PopulationModel members)
        {
            if (rule.KeepsStateAcrossWeights && rule is not IGlobalStateRule)
                throw new TrainTuneException($"The rule {rule.GetType().Name} keeps state across all weight tensors, and a population's stacked tensors hold every member's weights: its members would share that state. Run the seeds one at a time (TuningRun.Run per seed, or -p:TrainTunePopulation=1).");
            if (memberInitialValues is null || memberInitialValues.Count != members.Members)
                throw new ArgumentException("A population needs one set of initial values per member.", nameof(memberInitialValues));
            _memberLoss = new PopulationLoss(loss, members.Members);
            Hyperparameters = new HyperparameterSet(memberInitialValues.Select(values => WithInitial(specs, values)).ToArray(), shapes, first.dtype, first.device);
        }
        else
            Hyperparameters = new HyperparameterSet(WithInitial(specs, initialValues), shapes, first.dtype, first.device);
        // A rule with state across all weights keeps it per member, never shared.
        Rule = rule is IGlobalStateRule global && Members > 1 ? global.ForMembers(Members) : rule;
        Alive = Enumerable.Repeat(true, Members).ToArray();
        _model.train();
        _shadow.eval();
    }

    static IReadOnlyList<HyperparameterSpec> WithInitial(List<HyperparameterSpec> specs, IReadOnlyDictionary<string, double>? initialValues)
    {
        if (initialValues is null) return specs;
        foreach (var name in initialValues.Keys.Where(n => specs.All(s => s.Name != n)))
            throw new TrainTuneException($"No hyperparameter is named '{name}'; the run has {string.Join(", ", specs.Select(s => s.Name))}.");
        return specs.Select(s => initialValues.TryGetValue(s.Name, out var v) ? s.WithInitial(v) : s).ToList();
    }

    public IWeightUpdate Rule { get; }

    /// <summary>The model being trained.</summary>
    public Module<Tensor, Tensor> Model => _model;

    /// <summary>Members trained together: the population's size, 1 for a single run.</summary>
    public int Members => Hyperparameters.Members ?? 1;

    /// <summary>
    /// Whether each member still trains (all true for a single run). A population member that
    /// diverged is frozen: the tuners leave its hyperparameters alone from then on.
    /// </summary>
    public bool[] Alive { get; }

    public Loss Loss { get; }

    public HyperparameterSet Hyperparameters { get; }

    public IReadOnlyList<string> WeightNames { get; }

    /// <summary>The weight tensors (the model's parameters).</summary>
    public IReadOnlyList<Tensor> Weights => _weights;

    /// <summary>
    /// Fixes the hyperparameter values for the weight steps that follow (a block), untracked.
    /// Call again after the hyperparameters change.
    /// </summary>
    public void BeginBlock()
    {
        DisposeBlockValues();
        using var _ = torch.no_grad();
        _blockValues = Hyperparameters.Values();
        foreach (var perWeight in _blockValues) foreach (var value in perWeight.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>()) value.DetachFromDisposeScope();
    }

    /// <summary>The loss on <paramref name="batch"/> as a function of a model: the form every step takes.</summary>
    public ModelLoss LossOn(Split batch) => model => Evaluate(model, batch);

    /// <summary>One weight step w ← w − u(λ, w) without any graph. Returns the training loss per member (detached).</summary>
    public Tensor UntrackedStep(Split batch) => UntrackedStep(LossOn(batch), out _);

    /// <summary>As <see cref="UntrackedStep(Split)"/>, also giving ∇L_T(w) of the batch at the weights before the step.</summary>
    public Tensor UntrackedStep(Split batch, out Tensor[] gradients) => UntrackedStep(LossOn(batch), out gradients);

    /// <summary>
    /// One weight step on the training loss <paramref name="loss"/> computes from the model (the
    /// user's own loss in a loop of theirs), giving ∇L_T(w) at the weights before the step.
    /// </summary>
    public Tensor UntrackedStep(ModelLoss loss, out Tensor[] gradients)
    {
        if (_blockValues is null) BeginBlock();
        var values = _blockValues!;
        SetModelHyperparameters(_model, values);
        var trainLoss = TrainingLoss(loss);
        var grads = Gradients.Of(Total(trainLoss), _weights);
        var state = CopyState();
        Rule.Apply(_weights, grads, RuleValues(values), state);
        KeepState(state);
        gradients = grads;
        return PerMember(trainLoss.detach());
    }

    /// <summary>
    /// The tracked weight step of the one-pass method (docs/ALGORITHM.md, "A block"): takes the step with the
    /// graph of u kept, evaluates L_V at the new weights on <paramref name="validation"/>,
    /// and returns dL_V/dx for the raw tensors of the hyperparameters <paramref name="tuned"/>
    /// with the inverse Hessian-like term truncated to <paramref name="neumannTerms"/> terms.
    /// The weights are left at w_new and the rule's state is detached.
    /// </summary>
    public TrackedStepResult TrackedStep(Split batch, Split validation, int neumannTerms, IReadOnlyList<int> tuned) =>
        TrackedStep(LossOn(batch), LossOn(validation), neumannTerms, tuned);

    /// <summary>As <see cref="TrackedStep(Split, Split, int, IReadOnlyList{int})"/>, with the losses as functions of a model.</summary>
    public TrackedStepResult TrackedStep(ModelLoss loss, ModelLoss validationLoss, int neumannTerms, IReadOnlyList<int> tuned)
    {
        if (neumannTerms < 1) throw new TrainTuneException($"neumannTerms must be at least 1, not {neumannTerms}.");
        var leaves = tuned.SelectMany(h => Hyperparameters.Raw(h)).ToArray();
        var values = Hyperparameters.Values();
        SetModelHyperparameters(_model, values);
        var trainLoss = TrainingLoss(loss);
        var grads = Gradients.Of(Total(trainLoss), _weights, createGraph: true);

        var states = CopyState();
        var u = Rule.Updates(_weights, grads, RuleValues(values), states);
        if (u.Length != _weights.Length)
            throw new TrainTuneException($"The update rule {Rule.GetType().Name} returned {u.Length} updates for {_weights.Length} weight tensors.");

        Tensor[] newWeights;
        using (torch.no_grad()) newWeights = _weights.Zip(u, (w, update) => w - update).ToArray();
        var (validation, v, direct) = Rule is IEvaluationPoint point
            ? ValidateAtEvaluationPoint(point, newWeights, values, states, validationLoss, leaves)
            : ValidateOnShadow(newWeights, values, validationLoss, leaves);

        var hypergradient = ImplicitHypergradient.Compute(u, _weights, leaves, v, direct, neumannTerms);

        using (torch.no_grad())
        {
            for (var k = 0; k < _weights.Length; k++) _weights[k].copy_(_shadowWeights[k]);
        }
        KeepState(states.Select(perWeight => perWeight.Select(s => s?.detach()).ToArray()).ToArray());
        return new TrackedStepResult(PerMember(trainLoss.detach()), PerMember(validation.detach()), leaves, hypergradient.Select(h => h.detach()).ToArray());
    }

    /// <summary>
    /// Diff-through-Opt: takes one weight step per batch, keeping every step's graph (each on a
    /// model instance of its own, so that no parameter changes under a live graph), evaluates
    /// L_V at the final weights and back-propagates exactly through all the steps, the rule's
    /// state included, to the raw tensors of the hyperparameters <paramref name="tuned"/>. The
    /// state from before the first step is a constant (truncated history). The weights are left
    /// at the final ones.
    /// </summary>
    public UnrolledStepResult UnrolledSteps(IReadOnlyList<Split> batches, Split validation, IReadOnlyList<int> tuned) =>
        UnrolledSteps(batches.Select(LossOn).ToList(), LossOn(validation), tuned);

    /// <summary>As <see cref="UnrolledSteps(IReadOnlyList{Split}, Split, IReadOnlyList{int})"/>, with the losses as functions of a model (each step's runs on a model of its own).</summary>
    public UnrolledStepResult UnrolledSteps(IReadOnlyList<ModelLoss> batches, ModelLoss validation, IReadOnlyList<int> tuned)
    {
        if (batches.Count == 0) throw new TrainTuneException("Diff-through-Opt needs at least one step to unroll.");
        if (Rule is IEvaluationPoint)
            throw new TrainTuneException($"Diff-through-Opt does not differentiate through the averaged point that {Rule.GetType().Name} is evaluated at; tune it with the one-pass method (Method.OnePass).");
        if (_copyFactory is null) throw new TrainTuneException("Diff-through-Opt needs a model factory to build one model per unrolled step.");
        while (_copies.Count < batches.Count) _copies.Add(_copyFactory());
        var leaves = tuned.SelectMany(h => Hyperparameters.Raw(h)).ToArray();
        var values = Hyperparameters.Values();
        var current = _weights.Select(w => w.detach()).ToArray();
        var state = CopyState();
        var steps = new List<UnrolledHypergradient.Step>();
        var losses = new List<Tensor>();
        for (var k = 0; k < batches.Count; k++)
        {
            var model = _copies[k];
            model.train();
            var weights = model.parameters().ToArray();
            using (torch.no_grad())
                for (var j = 0; j < weights.Length; j++) weights[j].copy_(current[j]);
            // The incoming state of a later step depends on λ and w through the earlier steps.
            var stateIn = state.Select(perWeight => perWeight.Select(t => k == 0 ? t : t?.detach().requires_grad_(true)).ToArray()).ToArray();
            var stateOut = stateIn.Select(perWeight => (Tensor?[])perWeight.Clone()).ToArray();
            SetModelHyperparameters(model, values);
            var loss = Checked(batches[k](model));
            var grads = Gradients.Of(Total(loss), weights, createGraph: true);
            var u = Rule.Updates(weights, grads, RuleValues(values), stateOut);
            losses.Add(PerMember(loss.detach()));
            steps.Add(new(weights, stateIn, u, stateOut));
            current = weights.Zip(u, (w, update) => (w - update).detach()).ToArray();
            state = stateOut;
        }

        var (validationLoss, adjointWeights, direct) = ValidateOnShadow(current, values, validation, leaves);
        var hypergradient = UnrolledHypergradient.Compute(steps, leaves, adjointWeights, direct);

        using (torch.no_grad())
            for (var j = 0; j < _weights.Length; j++) _weights[j].copy_(current[j]);
        KeepState(state.Select(perWeight => perWeight.Select(t => t?.detach()).ToArray()).ToArray());
        return new UnrolledStepResult(torch.stack(losses), PerMember(validationLoss.detach()), leaves, hypergradient.Select(h => h.detach()).ToArray());
    }

    /// <summary>
    /// L_V for a rule evaluated at another point than it trains at (Schedule-Free): x(y', state', λ)
    /// from the new training point y', the new state (its graph kept) and the values; L_V at x on
    /// the shadow; ∂L_V/∂y' = (∂x/∂y')ᵀ ∂L_V/∂x, and the direct term gains (∂x/∂λ)ᵀ ∂L_V/∂x.
    /// </summary>
    (Tensor Loss, Tensor[] WeightGradients, Tensor[] Direct) ValidateAtEvaluationPoint(IEvaluationPoint point, IReadOnlyList<Tensor> newWeights,
        Tensor[][] values, Tensor?[][] states, ModelLoss validation, Tensor[] leaves)
    {
        var y = newWeights.Select(w => w.detach().requires_grad_(true)).ToArray();
        var x = point.EvaluationWeights(y, RuleValues(values), states);
        Tensor[] atX;
        using (torch.no_grad()) atX = x.Select(t => t.detach()).ToArray();
        var (loss, gradientAtX, direct) = ValidateOnShadow(atX, values, validation, leaves);
        var back = torch.autograd.grad(x, [.. y, .. leaves], gradientAtX, retain_graph: true, allow_unused: true);
        var v = y.Select((w, k) => Gradients.OrZeros(back[k], w)).ToArray();
        var throughX = leaves.Select((leaf, j) => direct[j] + Gradients.OrZeros(back[y.Length + j], leaf)).ToArray();
        // The weights continue from the training point; the shadow's copy is taken from y', not x.
        using (torch.no_grad())
            for (var k = 0; k < _shadowWeights.Length; k++) _shadowWeights[k].copy_(newWeights[k]);
        return (loss, v, throughX);
    }

    /// <summary>
    /// Moves the model's weights to the rule's evaluation point until disposed (a no-op for
    /// rules that evaluate where they train), so that every reported loss and the checkpoint's
    /// weights are at x.
    /// </summary>
    internal IDisposable AtEvaluationPoint()
    {
        if (Rule is not IEvaluationPoint point || _state.Length == 0 || _state[0].All(s => s is null)) return new Restore(null, null);
        using var _ = torch.no_grad();
        var training = _weights.Select(w => w.detach().clone().DetachFromDisposeScope()).ToArray();
        using var scope = torch.NewDisposeScope();
        // The current values: after a hyper step, the β the next step will assume.
        var x = point.EvaluationWeights(_weights.Select(w => w.detach()).ToArray(), RuleValues(Hyperparameters.Values()), CopyState());
        for (var k = 0; k < _weights.Length; k++) _weights[k].copy_(x[k]);
        return new Restore(_weights, training);
    }

    sealed class Restore(Parameter[]? weights, Tensor[]? training) : IDisposable
    {
        public void Dispose()
        {
            if (weights is null || training is null) return;
            using var _ = torch.no_grad();
            for (var k = 0; k < weights.Length; k++) weights[k].copy_(training[k]);
            foreach (var t in training) t.Dispose();
        }
    }

    /// <summary>
    /// L_V at <paramref name="newWeights"/>, on the shadow model (no parameter of the model changes
    /// while a graph still holds it): the loss, ∂L_V/∂w at the new weights, and the direct term
    /// ∂L_V/∂x for each of <paramref name="leaves"/> (zeros unless the model is an ITunableModel,
    /// whose hyperparameters appear in its forward pass).
    /// </summary>
    (Tensor Loss, Tensor[] WeightGradients, Tensor[] Direct) ValidateOnShadow(IReadOnlyList<Tensor> newWeights, Tensor[][] values, ModelLoss validation, Tensor[] leaves)
    {
        using (torch.no_grad())
        {
            for (var k = 0; k < _shadowWeights.Length; k++) _shadowWeights[k].copy_(newWeights[k]);
            foreach (var (shadowBuffer, buffer) in _shadow.buffers().Zip(_model.buffers())) shadowBuffer.copy_(buffer);
        }
        SetModelHyperparameters(_shadow, values);
        var loss = Checked(validation(_shadow), "validation loss");
        if (!Total(loss).requires_grad)
            throw new TrainTuneException("The validation loss does not use the model it is given: compute it from that model (m => lossFn(m.call(xv), yv)), which holds the new weights, not from the model being trained or a detached tensor.");
        var directInputs = _model is ITunableModel ? leaves : [];
        var grads = torch.autograd.grad([Total(loss)], [.. _shadowWeights, .. directInputs], allow_unused: true);
        if (grads.Take(_weights.Length).All(g => g is null || g.IsInvalid))
            throw new TrainTuneException("The validation loss does not use the model it is given: compute it from that model (m => lossFn(m.call(xv), yv)), which holds the new weights, not from the model being trained.");
        var weightGradients = grads.Take(_weights.Length).Select((g, k) => Gradients.OrZeros(g, _weights[k])).ToArray();
        var direct = leaves.Select((leaf, j) => directInputs.Length > 0 ? Gradients.OrZeros(grads[_weights.Length + j], leaf) : torch.zeros_like(leaf)).ToArray();
        return (loss, weightGradients, direct);
    }

    /// <summary>
    /// Each member's loss on <paramref name="split"/> (one for a single run), in evaluation mode,
    /// without a graph. A population evaluates every member on the split's rows, or with
    /// <paramref name="stacked"/> each member on its own rows of a stacked batch [N, B, …].
    /// </summary>
    public double[] EvaluateLoss(Split split, bool stacked = false, long chunkRows = 8192)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        _model.eval();
        using var evaluationPoint = AtEvaluationPoint();
        try
        {
            SetModelHyperparameters(_model, _blockValues ?? Hyperparameters.Values());
            // A population evaluates every member on the same rows: fewer rows per chunk.
            chunkRows = Math.Max(1, chunkRows / Members);
            var rowDimension = stacked ? 1 : 0;
            var rows = split.Inputs.shape[rowDimension];
            var total = torch.zeros(Members, dtype: ScalarType.Float64);
            for (long start = 0; start < rows; start += chunkRows)
            {
                using var chunkScope = torch.NewDisposeScope();
                var length = Math.Min(chunkRows, rows - start);
                var chunk = new Split(split.Inputs.narrow(rowDimension, start, length), split.Targets.narrow(rowDimension, start, length));
                if (_memberLoss is not null && !stacked)
                    chunk = new Split(PopulationBatches.Expand(chunk.Inputs, Members), PopulationBatches.Expand(chunk.Targets, Members));
                total.add_(PerMember(Evaluate(_model, chunk)).to(ScalarType.Float64).cpu() * length);
            }
            return (total / rows).data<double>().ToArray();
        }
        finally
        {
            _model.train();
        }
    }

    /// <summary>
    /// Runs the model and the loss once on a few rows, so that a wrong input shape or loss
    /// is a clear error before training starts.
    /// </summary>
    public void Probe(Split split)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var rows = Math.Min(2, split.Rows);
        var inputs = split.Inputs.narrow(0, 0, rows);
        var targets = split.Targets.narrow(0, 0, rows);
        if (_memberLoss is not null)
            (inputs, targets) = (PopulationBatches.Expand(inputs, Members), PopulationBatches.Expand(targets, Members));
        SetModelHyperparameters(_model, Hyperparameters.Values());
        Tensor output;
        try
        {
            output = _model.call(inputs);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException)
        {
            throw new TrainTuneException($"The model cannot take inputs of shape {TrainingData.Shape(split.Inputs)} (tried the first {rows} rows): {FirstLine(e.Message)}. Check the model's input size against the data.", e);
        }
        if ((_memberLoss is null ? Loss.ShapeProblem(output, targets) : _memberLoss.ShapeProblem(output, targets)) is { } problem)
            throw new TrainTuneException($"The loss {Loss.Name} does not fit the model's output: {problem}.");
        Tensor loss;
        try
        {
            loss = _memberLoss is null ? Loss.Compute(output, targets) : _memberLoss.Compute(output, targets);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException)
        {
            throw new TrainTuneException($"The loss {Loss.Name} failed on the model's output {TrainingData.Shape(output)} and targets {TrainingData.Shape(targets)}: {FirstLine(e.Message)}.", e);
        }
        if (loss.numel() != (_memberLoss is null ? 1 : Members))
            throw new TrainTuneException($"The loss {Loss.Name} returned a tensor of shape {TrainingData.Shape(loss)}; a loss must return a scalar (reduce it with mean() or sum()).");
    }

    static string FirstLine(string message) => message.Split('\n')[0].Trim();

    Tensor TrainingLoss(ModelLoss loss) => Checked(loss(_model));

    /// <summary><paramref name="loss"/> when it is a scalar (one per member for a population); a clear error otherwise.</summary>
    Tensor Checked(Tensor loss, string what = "training loss")
    {
        if (loss.numel() != (_memberLoss is null ? 1 : Members))
            throw new TrainTuneException($"The {what} is a tensor of shape {TrainingData.Shape(loss)}; a loss must be a scalar (reduce it with mean() or sum()).");
        return loss;
    }

    /// <summary>The loss: a scalar for a single run, one per member [N] for a population.</summary>
    Tensor Evaluate(Module<Tensor, Tensor> model, Split batch) =>
        _memberLoss is null ? Loss.Compute(model.call(batch.Inputs), batch.Targets) : _memberLoss.Compute(model.call(batch.Inputs), batch.Targets);

    /// <summary>What to differentiate: the loss, or the sum of the members' losses (each member's gradient is its own loss's).</summary>
    static Tensor Total(Tensor loss) => loss.dim() == 0 ? loss : loss.sum();

    /// <summary>The loss as one value per member, [M].</summary>
    static Tensor PerMember(Tensor loss) => loss.reshape(-1);

    void SetModelHyperparameters(Module<Tensor, Tensor> model, Tensor[][] values)
    {
        if (model is not ITunableModel tunable) return;
        tunable.SetHyperparameters(values.Skip(_ruleHyperparameterCount).Select(v => v[0]).ToArray());
    }

    Tensor[][] RuleValues(Tensor[][] values) =>
        values.Length == _ruleHyperparameterCount ? values : values.Take(_ruleHyperparameterCount).ToArray();

    Tensor?[][] CopyState() => _state.Select(perWeight => (Tensor?[])perWeight.Clone()).ToArray();


    /// <summary>Takes the rule's new state out of the step's dispose scope and frees the old.</summary>
    void KeepState(Tensor?[][] next)
    {
        for (var k = 0; k < _state.Length; k++)
            for (var s = 0; s < _state[k].Length; s++)
            {
                var old = _state[k][s];
                if (ReferenceEquals(old, next[k][s])) continue;
                next[k][s]?.DetachFromDisposeScope();
                old?.Dispose();
                _state[k][s] = next[k][s];
            }
    }

    /// <summary>
    /// The checkpoint names of hyperparameter <paramref name="h"/>'s raw tensors: its name, or
    /// name/weight for each weight where it is per weight.
    /// </summary>
    internal IReadOnlyList<string> RawNames(int h) =>
        Hyperparameters.Specs[h].PerWeight ? WeightNames.Select(w => $"{Hyperparameters.Specs[h].Name}/{w}").ToArray() : [Hyperparameters.Specs[h].Name];

    /// <summary>
    /// Writes weights, buffers, the rule's state and the raw hyperparameters into
    /// <paramref name="checkpoint"/>, each under its name, so that a model whose layers were
    /// renamed or reordered cannot load into the wrong tensors.
    /// </summary>
    /// <param name="weights">Also the weights and buffers (a run's checkpoint); without them, the tuning state alone (a tuner's, like an optimiser's state dict).</param>
    internal void Save(Checkpoint checkpoint, bool weights = true)
    {
        // A rule evaluated elsewhere (Schedule-Free) saves its evaluation point as the weights, and
        // the training point beside them so that a resume continues exactly.
        var evaluated = weights && Rule is IEvaluationPoint;
        if (evaluated)
            for (var k = 0; k < _weights.Length; k++) checkpoint.Put($"trainingpoint/{WeightNames[k]}", _weights[k]);
        using var evaluationPoint = weights ? AtEvaluationPoint() : null;
        for (var k = 0; k < _weights.Length; k++)
        {
            // A copy of the evaluation point: the weights go back to y when this returns.
            if (weights) checkpoint.Put($"weight/{WeightNames[k]}", evaluated ? _weights[k].detach().clone() : _weights[k]);
            for (var s = 0; s < _state[k].Length; s++) checkpoint.Put($"state/{WeightNames[k]}/{Rule.StateNames[s]}", _state[k][s]);
        }
        if (weights)
            foreach (var (name, buffer) in _model.named_buffers()) checkpoint.Put($"buffer/{name}", buffer);
        for (var h = 0; h < Hyperparameters.Specs.Count; h++)
            foreach (var (name, raw) in RawNames(h).Zip(Hyperparameters.Raw(h))) checkpoint.Put($"raw/{name}", raw);
    }

    /// <summary>
    /// Restores what <see cref="Save"/> wrote; a checkpoint with other names or shapes is refused
    /// with what differs, before anything changes.
    /// </summary>
    internal void Load(Checkpoint checkpoint, bool weights = true)
    {
        if (weights) checkpoint.RequireNames("weight", "weights", WeightNames);
        checkpoint.RequireNames("state", "rule state", WeightNames.SelectMany(w => Rule.StateNames.Select(s => $"{w}/{s}")).ToArray());
        if (weights) checkpoint.RequireNames("buffer", "buffers", _model.named_buffers().Select(b => b.name).ToArray());
        checkpoint.RequireNames("raw", "hyperparameters", Enumerable.Range(0, Hyperparameters.Specs.Count).SelectMany(RawNames).ToArray());
        var device = _weights[0].device;
        // Every tensor read and checked first, so that a wrong one changes nothing.
        var copies = new List<(Tensor Target, Tensor Source)>();
        if (weights)
        {
            var trainingPoint = Rule is IEvaluationPoint ? "trainingpoint" : "weight";
            if (Rule is IEvaluationPoint) checkpoint.RequireNames(trainingPoint, "training points", WeightNames);
            for (var k = 0; k < _weights.Length; k++) copies.Add((_weights[k], Required(checkpoint, $"{trainingPoint}/{WeightNames[k]}", device, _weights[k])));
            foreach (var (name, buffer) in _model.named_buffers()) copies.Add((buffer, Required(checkpoint, $"buffer/{name}", device, buffer)));
        }
        for (var h = 0; h < Hyperparameters.Specs.Count; h++)
            foreach (var (name, raw) in RawNames(h).Zip(Hyperparameters.Raw(h))) copies.Add((raw, Required(checkpoint, $"raw/{name}", device, raw)));
        var states = _state.Select((perWeight, k) => perWeight.Select((_, s) => checkpoint.Get($"state/{WeightNames[k]}/{Rule.StateNames[s]}", device)).ToArray()).ToArray();
        for (var k = 0; k < _weights.Length; k++)
            foreach (var state in states[k])
                if (state is not null && state.dim() > 0 && !state.shape.SequenceEqual(_weights[k].shape))
                    throw new TrainTuneException($"The saved rule state of '{WeightNames[k]}' has shape {TrainingData.Shape(state)} but the weight has {TrainingData.Shape(_weights[k])}: it was saved from a different model.");
        using (torch.no_grad())
        {
            foreach (var (target, source) in copies) target.copy_(source);
            for (var k = 0; k < _weights.Length; k++)
                for (var s = 0; s < _state[k].Length; s++)
                {
                    _state[k][s]?.Dispose();
                    _state[k][s] = states[k][s]?.DetachFromDisposeScope();
                }
        }
        BeginBlock();
    }

    static Tensor Required(Checkpoint checkpoint, string name, Device device, Tensor like)
    {
        var tensor = checkpoint.Get(name, device) ?? throw new TrainTuneException($"The checkpoint's '{name}' is empty; delete the checkpoint to start afresh.");
        if (!tensor.shape.SequenceEqual(like.shape))
            throw new TrainTuneException($"The checkpoint's '{name}' has shape {TrainingData.Shape(tensor)} but the run needs {TrainingData.Shape(like)}: it was written by a different model. Delete it to start afresh.");
        return tensor;
    }

    void DisposeBlockValues()
    {
        if (_blockValues is null) return;
        foreach (var perWeight in _blockValues) foreach (var value in perWeight.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>()) value.Dispose();
        _blockValues = null;
    }

    public void Dispose()
    {
        DisposeBlockValues();
        foreach (var state in _state) foreach (var s in state) s?.Dispose();
        Hyperparameters.Dispose();
        foreach (var copy in _copies) copy.Dispose();
    }
}

/// <summary>What an unrolled block gives: training losses [steps, members], L_V per member and dL_V/dx for each tuned raw tensor.</summary>
internal sealed record UnrolledStepResult(Tensor TrainLosses, Tensor ValidationLoss, IReadOnlyList<Tensor> Leaves, IReadOnlyList<Tensor> Hypergradient);

/// <summary>What a tracked step gives: the losses per member and dL_V/dx for each tuned raw tensor.</summary>
internal sealed record TrackedStepResult(Tensor TrainLoss, Tensor ValidationLoss, IReadOnlyList<Tensor> Leaves, IReadOnlyList<Tensor> Hypergradient);
