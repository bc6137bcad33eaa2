using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TrainTune;

/// <summary>
/// A model being trained by an update rule under a set of hyperparameters, for the members its
/// <see cref="MemberLayout"/> holds (one model, or a stacked population): the weights, the rule
/// and its state, the hyperparameters, and the plain weight step. The other concerns live beside
/// it, each in a class of its own: evaluation (<see cref="Evaluation"/>), validation at new
/// weights on the shadow model (<see cref="ShadowValidation"/>), the rule's evaluation point
/// (<see cref="EvaluationPoint"/>), checkpoints (<see cref="LearnerCheckpoint"/>), and the tuning
/// steps with their maths (<see cref="OnePassStep"/>, <see cref="DiffThroughOptStep"/>).
/// </summary>
internal sealed class Learner : IDisposable
{
    readonly Parameter[] _weights;
    readonly int _ruleHyperparameterCount;
    Tensor[][]? _blockValues;
    readonly Func<Module<Tensor, Tensor>>? _copyFactory;
    readonly List<Module<Tensor, Tensor>> _copies = [];
    readonly int[] _frozen, _trainable;

    /// <summary>An ordinary run: one member.</summary>
    /// <param name="model">The model to train; its parameters are the weights.</param>
    /// <param name="shadow">A second instance of the same model (same parameter names and shapes).</param>
    /// <param name="initialValues">Initial values that replace the specs' defaults, by name.</param>
    /// <param name="perWeight">Hyperparameters to hold one value per weight whatever their spec says.</param>
    /// <param name="copyFactory">Builds further instances of the model (same dtype and device), for methods that unroll several steps.</param>
    /// <param name="groups">Parameter groups with values of their own; null for none.</param>
    /// <param name="perGroup">Hyperparameters tuned as one value per group.</param>
    public Learner(Module<Tensor, Tensor> model, Module<Tensor, Tensor> shadow, IWeightUpdate rule, Loss loss,
        IReadOnlyDictionary<string, double>? initialValues = null, IReadOnlyCollection<string>? perWeight = null, Func<Module<Tensor, Tensor>>? copyFactory = null,
        IReadOnlyList<ParameterGroup>? groups = null, IReadOnlyCollection<string>? perGroup = null)
        : this(model, shadow, rule, loss, MemberLayout.Single, [initialValues], perWeight, copyFactory, groups, perGroup) { }

    /// <summary>The members of <paramref name="layout"/>, member i starting from <paramref name="memberInitialValues"/>[i].</summary>
    public Learner(Module<Tensor, Tensor> model, Module<Tensor, Tensor> shadow, IWeightUpdate rule, Loss loss, MemberLayout layout,
        IReadOnlyList<IReadOnlyDictionary<string, double>?> memberInitialValues, IReadOnlyCollection<string>? perWeight, Func<Module<Tensor, Tensor>>? copyFactory,
        IReadOnlyList<ParameterGroup>? groups = null, IReadOnlyCollection<string>? perGroup = null)
    {
        if (memberInitialValues.Count != layout.Members)
            throw new ArgumentException($"{layout.Members} members need one set of initial values each.", nameof(memberInitialValues));
        if (layout.RuleProblem(rule) is { } problem) throw new TrainTuneException(problem);
        _copyFactory = copyFactory;
        Model = model;
        Shadow = shadow;
        Layout = layout;
        Loss = loss;
        Rule = rule;
        var named = model.named_parameters().ToArray();
        if (named.Length == 0)
            throw new TrainTuneException($"The model {model.GetType().Name} has no parameters: register its layers as fields (or with register_module) so that there is something to train.");
        // Frozen parameters (requires_grad = false: a pretrained backbone) are left alone: not
        // weights of the rule, not in the hypergradient; the shadow holds the model's values of them.
        var trainable = named.Select((p, k) => (p, k)).Where(x => x.p.parameter.requires_grad).Select(x => x.k).ToArray();
        if (trainable.Length == 0)
            throw new TrainTuneException($"Every parameter of the model {model.GetType().Name} is frozen (requires_grad = false): leave at least one trainable, or there is nothing to train.");
        if (trainable.Length < named.Length && layout != MemberLayout.Single)
            throw new TrainTuneException($"The model {model.GetType().Name} has frozen parameters, which a population does not stack: run its members one by one (-p:TrainTunePopulation=1, or TuningRun.Run per seed).");
        var allNames = layout.WeightNames(model);
        WeightNames = trainable.Select(k => allNames[k]).ToArray();
        _weights = trainable.Select(k => named[k].parameter).ToArray();
        if (ReferenceEquals(shadow, model) || shadow.parameters().Any(p => named.Any(n => ReferenceEquals(n.parameter, p))))
            throw new TrainTuneException("The model factory returned the model being trained (or a model sharing its parameters): it must build a new model each time it is called, e.g. () => new Net(), not () => model.");
        var shadowNamed = shadow.named_parameters().ToArray();
        if (!shadowNamed.Select(p => (p.name, string.Join(",", p.parameter.shape))).SequenceEqual(named.Select(p => (p.name, string.Join(",", p.parameter.shape)))))
            throw new TrainTuneException("The model factory built two models with different parameters; it must build the same architecture every time it is called.");
        ShadowWeights = trainable.Select(k => shadowNamed[k].parameter).ToArray();
        _trainable = trainable;
        _frozen = Enumerable.Range(0, named.Length).Except(trainable).ToArray();
        CopyFrozen(Shadow);
        State = new RuleState(_weights.Length, rule.StateNames.Count);
        Point = EvaluationPoint.For(rule);

        var specs = rule.Hyperparameters.ToList();
        _ruleHyperparameterCount = specs.Count;
        if (model is ITunableModel tunable) specs.AddRange(tunable.Hyperparameters);
        if (perWeight is not null)
        {
            foreach (var name in perWeight.Where(n => specs.Take(_ruleHyperparameterCount).All(s => s.Name != n)))
                throw new TrainTuneException($"'{name}' cannot be per weight: the rule {rule.GetType().Name} has no hyperparameter of that name (it has {string.Join(", ", rule.Hyperparameters.Select(h => h.Name))}).");
            specs = specs.Select((s, h) => h < _ruleHyperparameterCount && perWeight.Contains(s.Name) ? s with { PerWeight = true } : s).ToList();
        }
        if (groups is { Count: > 0 } && layout != MemberLayout.Single)
            throw new TrainTuneException("Parameter groups are not stacked in a population: run its members one by one (-p:TrainTunePopulation=1, or TuningRun.Run per seed).");
        var grouping = Grouping.Of(groups, trainable.Select(k => (named[k].name, (Tensor)named[k].parameter)).ToArray(), perGroup, _ruleHyperparameterCount);
        var first = _weights[0];
        Hyperparameters = new HyperparameterSet(layout, memberInitialValues.Select(values => WithInitial(specs, values)).ToArray(),
            _weights.Select(w => w.shape).ToArray(), first.dtype, first.device, grouping);
        Alive = Enumerable.Repeat(true, Members).ToArray();
        // The model's modes are the caller's (a loop of one's own may keep some layers in
        // evaluation mode); the shadow is only ever evaluated.
        Shadow.eval();
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
    public Module<Tensor, Tensor> Model { get; }

    /// <summary>A second instance of the model, on which L_V is evaluated at new weights.</summary>
    internal Module<Tensor, Tensor> Shadow { get; }

    internal IReadOnlyList<Parameter> ShadowWeights { get; }

    /// <summary>How the members lie in the tensors.</summary>
    public MemberLayout Layout { get; }

    /// <summary>Members trained together: the population's size, 1 for a single run.</summary>
    public int Members => Layout.Members;

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

    /// <summary>The rule's per-weight state.</summary>
    internal RuleState State { get; }

    /// <summary>Where the rule's losses are evaluated.</summary>
    internal EvaluationPoint Point { get; }

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

    /// <summary>The values of the current block (untracked), or fresh ones outside a block.</summary>
    internal Tensor[][] CurrentValues() => _blockValues ?? Hyperparameters.Values();

    /// <summary>The loss on <paramref name="batch"/> (laid out for the members) as a function of a model: the form every step takes.</summary>
    public ModelLoss LossOn(Split batch) => model => Compute(model, batch);

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
        SetModelHyperparameters(Model, values);
        var trainLoss = Checked(loss(Model));
        var grads = Gradients.Of(Total(trainLoss), _weights);
        var state = State.Copy();
        RuleCall.Apply(Rule, Layout, _weights, ForRule(grads), RuleValues(values), state);
        State.Keep(state);
        StepsTaken++;
        gradients = grads;
        return PerMember(trainLoss.detach());
    }

    /// <summary>Gradient clipping in front of the rule (null: none); see <see cref="GradientClipping"/>.</summary>
    internal GradientClipping? Clipping { get; set; }

    /// <summary>What the rule is given: the gradients, clipped when the run clips them (out of place, so a graph they carry goes through it).</summary>
    internal Tensor[] ForRule(Tensor[] grads) => Clipping is null ? grads : Clipping.Apply(Layout, grads);

    /// <summary>The loss of <paramref name="model"/> on a laid-out <paramref name="batch"/>: a scalar, or one per member.</summary>
    internal Tensor Compute(Module<Tensor, Tensor> model, Split batch) =>
        Layout.Loss(Loss, batch.State is { } state ? state.Forward(model, batch.Inputs) : model.call(batch.Inputs), batch.Targets);

    /// <summary><paramref name="loss"/> when it is one value per member; a clear error otherwise.</summary>
    internal Tensor Checked(Tensor loss, string what = "training loss")
    {
        if (loss.numel() != Members)
            throw new TrainTuneException($"The {what} is a tensor of shape {TrainingData.Shape(loss)}; a loss must be a scalar (reduce it with mean() or sum()).");
        return loss;
    }

    /// <summary>What to differentiate: the loss, or the sum of the members' losses (each member's gradient is its own loss's).</summary>
    internal static Tensor Total(Tensor loss) => loss.dim() == 0 ? loss : loss.sum();

    /// <summary>The loss as one value per member, [M].</summary>
    internal static Tensor PerMember(Tensor loss) => loss.reshape(-1);

    /// <summary>Hands a model with hyperparameters of its own ([TunableModel]) its current values.</summary>
    internal void SetModelHyperparameters(Module<Tensor, Tensor> model, Tensor[][] values)
    {
        if (model is not ITunableModel tunable) return;
        tunable.SetHyperparameters(values.Skip(_ruleHyperparameterCount).Select(v => v[0]).ToArray());
    }

    /// <summary>
    /// The rule's rows of <paramref name="values"/> (the model's own follow them) as the rule reads
    /// them at the next step: a scheduled hyperparameter multiplied by its schedule's m(t), t =
    /// <see cref="StepsTaken"/>, inside the graph when the values are.
    /// </summary>
    internal Tensor[][] RuleValues(Tensor[][] values)
    {
        var rule = values.Length == _ruleHyperparameterCount ? values : values.Take(_ruleHyperparameterCount).ToArray();
        if (_schedules.Count == 0) return rule;
        var scheduled = (Tensor[][])rule.Clone();
        foreach (var (h, schedule) in _schedules)
        {
            var multiplier = schedule.Checked(StepsTaken, Hyperparameters.Specs[h].Name);
            scheduled[h] = rule[h].Select(value => value * multiplier).ToArray();
        }
        return scheduled;
    }

    readonly Dictionary<int, Schedule> _schedules = [];

    /// <summary>Weight steps taken so far: the step t of the schedules (the next step is t = StepsTaken; a checkpoint restores it).</summary>
    internal int StepsTaken { get; set; }

    /// <summary>Multiplies rule hyperparameter <paramref name="name"/> by <paramref name="schedule"/> from the next step on (null: no schedule).</summary>
    internal void SetSchedule(string name, Schedule? schedule)
    {
        var h = Hyperparameters.IndexOf(name);
        if (h < 0 || h >= _ruleHyperparameterCount)
            throw new TrainTuneException($"'{name}' cannot be scheduled: the rule {Rule.GetType().Name} has no hyperparameter of that name (it has {string.Join(", ", Rule.Hyperparameters.Select(s => s.Name))}); schedules multiply the rule's hyperparameters.");
        if (Point.Differs)
            throw new TrainTuneException($"{Rule.GetType().Name} is schedule-free: it averages its iterates instead of following a schedule, and its evaluation point assumes the values it was given. Use another rule to schedule '{name}'.");
        if (schedule is null) _schedules.Remove(h);
        else _schedules[h] = schedule;
    }

    /// <summary>
    /// <paramref name="count"/> further instances of the model, built once (for unrolled steps),
    /// with the model's frozen parameters; they outlive any dispose scope they are first asked for in.
    /// </summary>
    internal IReadOnlyList<Module<Tensor, Tensor>> Copies(int count)
    {
        if (_copyFactory is null) throw new TrainTuneException("Diff-through-Opt needs a model factory to build one model per unrolled step.");
        while (_copies.Count < count)
        {
            var copy = ModelInstances.Owned(_copyFactory);
            if (ReferenceEquals(copy, Model) || ReferenceEquals(copy, Shadow))
                throw new TrainTuneException("The model factory returned a model it had returned before (or the model being trained): it must build a new model each time it is called.");
            CopyFrozen(copy);
            _copies.Add(copy);
        }
        return _copies;
    }

    /// <summary>The parameters of another instance of the model (shadow, unrolled copy) that correspond to the weights.</summary>
    internal Parameter[] WeightsOf(Module<Tensor, Tensor> instance)
    {
        var parameters = instance.parameters().ToArray();
        return _trainable.Select(k => parameters[k]).ToArray();
    }

    /// <summary>Gives <paramref name="instance"/> the model's frozen parameters (the factory may initialise them otherwise).</summary>
    void CopyFrozen(Module<Tensor, Tensor> instance)
    {
        if (_frozen.Length == 0) return;
        var source = Model.parameters().ToArray();
        var target = instance.parameters().ToArray();
        using var _ = torch.no_grad();
        foreach (var k in _frozen) target[k].copy_(source[k]);
    }

    /// <summary>
    /// The names of the raw tensors of hyperparameter <paramref name="h"/> that a method changes
    /// (<see cref="HyperparameterSet.Raw"/>), for checkpoints: its name, name/weight for each weight
    /// where it is per weight, name/group:G for a group's own value.
    /// </summary>
    internal IReadOnlyList<string> RawNames(int h) => Hyperparameters.RawSlots(h).Select(slot => SlotName(h, slot.Weight, slot.Group)).ToArray();

    /// <summary>The checkpoint name of one raw tensor of hyperparameter <paramref name="h"/>.</summary>
    internal string SlotName(int h, int? weight, int? group)
    {
        var name = Hyperparameters.Specs[h].Name;
        return weight is { } k ? $"{name}/{WeightNames[k]}" : group is { } g ? $"{name}/group:{Hyperparameters.GroupNames![g]}" : name;
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
        State.Dispose();
        Hyperparameters.Dispose();
        foreach (var copy in _copies) copy.Dispose();
    }
}
