using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Tunes hyperparameters inside a training loop of your own, used like an optimiser:
/// <code>
/// using var tuner = Tuner.For(model, () => new Net(), new SgdMomentum(), Method.OnePass());
/// foreach (var (x, y) in myBatches)
///     tuner.Step(loss: lossFn(model.call(x), y), validationLoss: m => lossFn(m.call(xv), yv));
/// </code>
/// Every call is one weight step of the rule on <c>model</c>'s parameters; every
/// <see cref="Method.StepsPerBlock"/>-th also a hyper step, on the validation loss of the model at
/// its new weights (the function is given a second instance of the model, from the factory; the
/// validation batch may change at every hyper step). Methods that differentiate through several
/// steps (Diff-through-Opt) need the training loss as a function of the model:
/// <c>tuner.Step(m => lossFn(m.call(x), y), ...)</c>.
/// </summary>
public sealed class Tuner : IDisposable
{
    readonly Learner _learner;
    readonly IBlockTuner _tuner;
    readonly Method _method;
    readonly nn.Module<Tensor, Tensor> _shadow;
    readonly List<Tensor> _blockLosses = [];
    readonly BlockStepper _stepper;
    readonly List<BlockRecord> _history = [];
    readonly Dictionary<string, double> _setInBlock = [];
    int _skipped;

    Tuner(nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor> shadow, Func<nn.Module<Tensor, Tensor>> factory, IWeightUpdate rule, Method method,
        IReadOnlyDictionary<string, double>? initialValues, IReadOnlyCollection<string>? perWeight, IReadOnlyList<ParameterGroup>? groups, IReadOnlyCollection<string>? perGroup)
    {
        if (method is BestOfMethod)
            throw new TrainTuneException("Method.BestOf trains several starts as one population and cannot tune a single model in a loop; use its inner method.");
        NativeAllocator.EnsureLargeBlocksStayInTheHeap();
        _shadow = shadow;
        _method = method;
        // The loss is the caller's: the learner's own loss function is never used.
        _learner = new Learner(model, shadow, rule, Loss.MeanSquaredError, initialValues, perWeight, factory, groups, perGroup);
        _tuner = method.Start(_learner);
        _stepper = new BlockStepper(_learner, _tuner, method.StepsPerBlock);
        Initial = Hyperparameters;
        Threads = ChooseThreads(null);
    }

    /// <summary>
    /// The thread policy for a loop of one's own: its rows per step are the caller's and unknown
    /// here, so the work is the parameters' count alone (one thread for all but very large models:
    /// never much slower on a small machine, and several times faster than libtorch's default while
    /// another process is busy; README, "Threads").
    /// </summary>
    ThreadChoice ChooseThreads(int? requested)
    {
        var work = ThreadPolicy.WorkPerStep(_learner.Weights.Select(w => w.numel()), rows: 1);
        var choice = ThreadPolicy.Choose(work, requested, ThreadPolicy.AvailableCores);
        if (requested is null) choice = choice with { Reason = choice.Reason + " (a loop of one's own: rows per step unknown; Tuner.WithThreads(n) sets more)" };
        return ThreadPolicy.Apply(choice);
    }

    /// <summary>libtorch's thread counts the tuner set when it was made (or by <see cref="WithThreads"/>), and why.</summary>
    public ThreadChoice Threads { get; private set; }

    /// <summary>
    /// Uses <paramref name="threads"/> libtorch intra-op threads (null restores the automatic
    /// choice). libtorch's thread count is process-wide: it holds for the rest of the loop too.
    /// </summary>
    public Tuner WithThreads(int? threads)
    {
        if (threads is < 1)
            throw new TrainTuneException($"WithThreads({threads}) is not valid: use a positive number of threads, or null for the automatic choice.");
        Threads = ChooseThreads(threads);
        return this;
    }

    /// <summary>
    /// Clips the gradients before the rule sees them, inside the weight update, as
    /// <see cref="TuningRun.WithGradientClipping"/> does (by global norm or by value; neither clips
    /// nothing). Set it before the first step.
    /// </summary>
    public Tuner WithGradientClipping(double? maxNorm = null, double? maxValue = null)
    {
        if (Steps > 0) throw new TrainTuneException("WithGradientClipping: set the clipping before the first step, as part of the tuner's rule.");
        _learner.Clipping = GradientClipping.From(maxNorm, maxValue);
        return this;
    }

    /// <summary>
    /// A tuner of <paramref name="model"/>'s weights by <paramref name="rule"/>, the hyperparameters
    /// changed as <paramref name="method"/> says (default <see cref="Method.OnePass"/>).
    /// <paramref name="modelFactory"/> builds further instances of the same architecture (same
    /// dtype and device), on which validation losses at new weights are computed.
    /// <paramref name="groups"/> and <paramref name="perGroup"/> split the parameters into groups with
    /// values of their own, as <see cref="TuningRun.WithGroups"/> and <see cref="TuningRun.WithPerGroup"/> do.
    /// </summary>
    public static Tuner For(nn.Module<Tensor, Tensor> model, Func<nn.Module<Tensor, Tensor>> modelFactory, IWeightUpdate rule, Method? method = null,
        IReadOnlyDictionary<string, double>? initialValues = null, IReadOnlyCollection<string>? perWeight = null,
        IReadOnlyList<ParameterGroup>? groups = null, IReadOnlyCollection<string>? perGroup = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(modelFactory);
        ArgumentNullException.ThrowIfNull(rule);
        var shadow = ModelInstances.Owned(modelFactory) ?? throw new TrainTuneException("The model factory returned null; it must return a new model each time it is called.");
        var first = model.parameters().FirstOrDefault();
        if (first is not null) shadow = shadow.to(first.dtype).to(first.device);
        return new Tuner(model, shadow, () => { var copy = modelFactory(); return first is null ? copy : copy.to(first.dtype).to(first.device); },
            rule, method ?? Method.OnePass(), initialValues, perWeight, groups, perGroup);
    }

    /// <summary>Weight steps taken so far.</summary>
    public int Steps { get; private set; }

    /// <summary>
    /// Puts the model's weights at the point the rule is evaluated at until disposed: Schedule-Free
    /// trains at y and is evaluated at its average x, so evaluate and save the model inside
    /// <c>using (tuner.AtEvaluationPoint()) { … }</c>. For every other rule the weights stay as they are.
    /// Take no step inside it.
    /// </summary>
    public IDisposable AtEvaluationPoint() => _learner.AtEvaluationPoint();

    /// <summary>The hyperparameters now (one host copy).</summary>
    public IReadOnlyDictionary<string, HyperparameterValue> Hyperparameters => _learner.Hyperparameters.Snapshot(_learner.WeightNames);

    /// <summary>
    /// Multiplies rule hyperparameter <paramref name="name"/> by <paramref name="schedule"/> of the
    /// step from the next step on, as <see cref="TuningRun.WithSchedule"/> does (null removes it):
    /// the rule reads m(t) · λ at step t (t = <see cref="Steps"/>), and the method tunes λ.
    /// </summary>
    public Tuner WithSchedule(string name, Schedule? schedule)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_stepper.Deferring)
            throw new TrainTuneException($"{_method.Name} is in the middle of the steps it takes at the end of a block; schedule '{name}' at a block boundary.");
        _learner.SetSchedule(name, schedule);
        return this;
    }

    /// <summary>
    /// Sets hyperparameter <paramref name="name"/> to <paramref name="value"/> from the next step on,
    /// for a loop that manages a value itself (a warm-up or decay of its own, a value read from a
    /// file): a hyperparameter the method holds stays there; one it tunes is tuned on from there.
    /// The block's record lists the value in <see cref="BlockRecord.Set"/>. A value outside the
    /// bounds or the transform is refused, saying what to change, and nothing changes.
    /// </summary>
    public void Set(string name, double value)
    {
        var set = _learner.Hyperparameters;
        var h = set.IndexOf(name);
        if (h < 0)
            throw new TrainTuneException($"The tuner has no hyperparameter named '{name}'; it has {string.Join(", ", set.Specs.Select(s => s.Name))}.");
        if (_stepper.Deferring)
            throw new TrainTuneException($"{_method.Name} is in the middle of the steps it takes at the end of a block, with the values it started them with; set '{name}' at a block boundary (after step {Steps + _method.StepsPerBlock - Steps % _method.StepsPerBlock}).");
        set.Set(h, value);
        _learner.BeginBlock();
        _setInBlock[name] = value;
    }

    /// <summary>The hyperparameters the tuner started from.</summary>
    public IReadOnlyDictionary<string, HyperparameterValue> Initial { get; }

    /// <summary>The norm of the last hypergradient, or null before the first hyper step (or for a method without one).</summary>
    public double? LastHypergradientNorm => _history.LastOrDefault(b => b.HypergradientNorm is not null)?.HypergradientNorm;

    /// <summary>One record per block: losses, hyperparameters, hypergradient norm.</summary>
    public IReadOnlyList<BlockRecord> History => _history;

    /// <summary>The step at which the training loss stopped being finite (checked at the end of each block), or null.</summary>
    public int? DivergedAtStep { get; private set; }

    /// <summary>Called after every block with its record (progress displays, logs of your own).</summary>
    public Action<BlockRecord>? OnBlock { get; set; }

    /// <summary>
    /// Where the tuner says that hyper steps are being skipped (their hypergradient not finite):
    /// at the first skip and at the 10th, 100th, … Standard error by default; null for silence
    /// (<see cref="SkippedHypersteps"/> and each <see cref="BlockRecord.NotFinite"/> still count them).
    /// </summary>
    public TextWriter? Warnings { get; set; } = Console.Error;

    TensorBoardLog? _tensorBoard;

    /// <summary>Writes TensorBoard event files into <paramref name="folder"/> after every block, as <see cref="TuningRun.LogToTensorBoard"/> does.</summary>
    public Tuner LogToTensorBoard(string folder)
    {
        _tensorBoard = new TensorBoardLog(folder);
        return this;
    }

    /// <summary>
    /// One weight step on <paramref name="loss"/>, computed from the model being tuned; at the end
    /// of a block also a hyper step on <paramref name="validationLoss"/>. Returns the training loss.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads differ in the first parameter's type (a loss, or a function giving it); no call binds to both.")]
    public Tensor Step(Tensor loss, Func<nn.Module<Tensor, Tensor>, Tensor>? validationLoss = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (_tuner.FinishingSteps > 1)
            throw new TrainTuneException($"{_method.Name} differentiates through whole steps at the end of each block, which it takes on models of its own: pass the training loss as a function of the model, Step(m => lossFn(m.call(x), y), ...).");
        return Step(_ => loss, validationLoss);
    }

    /// <summary>
    /// One weight step on the training loss <paramref name="loss"/> computes from a model; at the
    /// end of a block also a hyper step on <paramref name="validationLoss"/>. Returns the training
    /// loss at the weights before the step.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads differ in the first parameter's type (a loss, or a function giving it); no call binds to both.")]
    public Tensor Step(Func<nn.Module<Tensor, Tensor>, Tensor> loss, Func<nn.Module<Tensor, Tensor>, Tensor>? validationLoss = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (DivergedAtStep is not null)
            throw new TrainTuneException($"The training diverged at step {DivergedAtStep}; start again from other hyperparameters or weights.");
        if (!_learner.Model.training)
            throw new TrainTuneException($"The model is in evaluation mode at step {Steps + 1}: weight steps are taken in training mode. Call model.train() after evaluating it (the tuner evaluates on a copy of its own and never changes the model's mode); to keep some layers in evaluation mode (a frozen BatchNorm), call eval() on those layers only.");
        ModelLoss training = m => loss(m);
        var ends = _stepper.NextEndsBlock;
        ModelLoss validation = validationLoss is null
            ? _ => throw new TrainTuneException($"Step {Steps + 1} ends a block of {_method.StepsPerBlock}: {_method.Name} takes a hyper step here and needs the validation loss, Step(loss, validationLoss: m => lossFn(m.call(xv), yv)).")
            : m => validationLoss(m);
        Tensor result;
        BlockOutcome? outcome;
        using (var scope = torch.NewDisposeScope())
        {
            (var taken, outcome) = _stepper.Step(training, () => validation);
            result = taken.reshape(-1).detach().clone().DetachFromDisposeScope();
        }
        _blockLosses.Add(result);
        Steps++;
        // The last loss taken, in the caller's dispose scope (the block's own are freed when it is recorded).
        var returned = result[^1].clone();
        if (ends) FinishBlock(outcome!, validationLoss);
        return returned;
    }

    void FinishBlock(BlockOutcome outcome, Func<nn.Module<Tensor, Tensor>, Tensor>? validationLoss)
    {
        var losses = torch.cat(_blockLosses.Select(l => l.reshape(-1)).ToArray()).to(ScalarType.Float64).cpu().data<double>().ToArray();
        foreach (var l in _blockLosses) l.Dispose();
        _blockLosses.Clear();
        var firstBad = Array.FindIndex(losses, l => !double.IsFinite(l));
        if (firstBad >= 0)
        {
            DivergedAtStep = Steps - losses.Length + firstBad + 1;
            return;
        }
        var skipped = outcome.HyperstepSkipped?[0] ?? false;
        var notFinite = skipped ? outcome.NotFinite?[0] ?? [] : [];
        if (skipped && ++_skipped is var count && PowerOfTen(count))
            Warnings?.WriteLine($"TrainTune: {count} hyper step{(count == 1 ? "" : "s")} skipped so far (the last at step {Steps}): {HyperStep.SkipReason(notFinite)}.");
        var validation = outcome.ValidationLoss?[0] ?? (validationLoss is null ? double.NaN : Evaluate(validationLoss));
        var record = new BlockRecord(Steps, losses.Average(), validation, Hyperparameters, outcome.HypergradientNorm?[0], skipped)
        {
            NotFinite = notFinite,
            Set = new Dictionary<string, double>(_setInBlock),
        };
        _setInBlock.Clear();
        _history.Add(record);
        _tensorBoard?.Block(record, _skipped);
        OnBlock?.Invoke(record);
    }

    static bool PowerOfTen(int n)
    {
        while (n % 10 == 0) n /= 10;
        return n == 1;
    }

    /// <summary>The validation loss of a block whose method reports none: on the shadow, holding the model's weights (at its evaluation point) and buffers, in evaluation mode.</summary>
    double Evaluate(Func<nn.Module<Tensor, Tensor>, Tensor> validationLoss)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        nn.Module<Tensor, Tensor> shadow;
        using (_learner.AtEvaluationPoint()) shadow = ShadowValidation.OfModel(_learner);
        _learner.SetModelHyperparameters(shadow, _learner.CurrentValues());
        return _learner.Checked(validationLoss(shadow), "validation loss").to(ScalarType.Float64).item<double>();
    }

    /// <summary>Hyper steps skipped so far because the hypergradient was not finite.</summary>
    public int SkippedHypersteps => _skipped;

    /// <summary>
    /// Writes the tuning state (raw hyperparameters, the rule's state per weight, the
    /// hyper-optimiser's, the position in the block) to <paramref name="path"/>; the weights are
    /// the model's to save, as with an optimiser's state.
    /// </summary>
    public void Save(string path)
    {
        if (_stepper.Deferring)
            throw new TrainTuneException($"{_method.Name} is in the middle of the steps it takes at the end of a block; save at a block boundary (after step {Steps + _method.StepsPerBlock - Steps % _method.StepsPerBlock}).");
        var checkpoint = new Checkpoint { Progress = new(_method.Name, 0, Steps, _skipped, 0, Initial, [.. _history]) };
        _learner.Save(checkpoint, weights: false);
        _tuner.Save(checkpoint);
        checkpoint.Save(path);
    }

    /// <summary>Restores what <see cref="Save"/> wrote; a state of another model, rule or method is refused with what differs, and nothing changes.</summary>
    public void Load(string path)
    {
        var checkpoint = Checkpoint.Load(path);
        if (checkpoint.Progress.Method != _method.Name)
            throw new TrainTuneException($"'{path}' holds the state of a {checkpoint.Progress.Method} tuner, not of this {_method.Name} one.");
        _learner.Load(checkpoint, weights: false);
        _tuner.Load(checkpoint);
        Steps = checkpoint.Progress.StepsDone;
        _stepper.Position = Steps % _method.StepsPerBlock;
        _skipped = checkpoint.Progress.SkippedHypersteps;
        _history.Clear();
        _history.AddRange(checkpoint.Progress.History);
        foreach (var l in _blockLosses) l.Dispose();
        _blockLosses.Clear();
    }

    public void Dispose()
    {
        foreach (var l in _blockLosses) l.Dispose();
        _tuner.Dispose();
        _learner.Dispose();
        _shadow.Dispose();
    }
}
