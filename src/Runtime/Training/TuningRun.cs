using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// One training run, described fluently and started with <see cref="Run"/>:
/// <code>
/// TuningRun.Of(() => new Mlp(), new SgdMomentum(), Loss.MeanSquaredError)
///     .On(data).Tune(Method.OnePass()).ForSteps(4000).Run();
/// </code>
/// A description is immutable; each method returns a changed copy.
/// </summary>
public sealed record TuningRun
{
    TuningRun(Func<nn.Module<Tensor, Tensor>> modelFactory, IWeightUpdate rule, Loss loss) =>
        (ModelFactory, Rule, Loss) = (modelFactory, rule, loss);

    /// <summary>A run that trains models from <paramref name="modelFactory"/> (called twice: the model and its shadow) with <paramref name="rule"/>.</summary>
    public static TuningRun Of(Func<nn.Module<Tensor, Tensor>> modelFactory, IWeightUpdate rule, Loss loss) =>
        new(modelFactory ?? throw new ArgumentNullException(nameof(modelFactory)), rule ?? throw new ArgumentNullException(nameof(rule)),
            loss ?? throw new ArgumentNullException(nameof(loss)));

    public Func<nn.Module<Tensor, Tensor>> ModelFactory { get; init; }
    public IWeightUpdate Rule { get; init; }
    public Loss Loss { get; init; }
    public TrainingData? Data { get; init; }
    public Method Method { get; init; } = Method.Fixed();
    public int Steps { get; init; } = 1000;
    /// <summary>Training batch size; null trains on the full training split every step.</summary>
    public int? BatchSize { get; init; }
    /// <summary>Validation batch size for L_V; null uses the full validation split.</summary>
    public int? ValidationBatchSize { get; init; }
    public long Seed { get; init; }
    /// <summary>"cpu" (default), "cuda", "cuda:N", or "auto" (CUDA when present).</summary>
    public string Device { get; init; } = "cpu";
    public ScalarType Precision { get; init; } = ScalarType.Float32;
    public string? RecordPath { get; init; }
    /// <summary>Where the run writes TensorBoard event files; null for none.</summary>
    public string? TensorBoardPath { get; init; }
    public IReadOnlyDictionary<string, double>? InitialValues { get; init; }
    public Action<RunProgress>? Progress { get; init; }
    /// <summary>Where the run checkpoints itself; null for no checkpoints.</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>Hyper steps (blocks) between checkpoints.</summary>
    public int CheckpointEveryBlocks { get; init; } = 20;
    /// <summary>Continue from <see cref="CheckpointPath"/> when a checkpoint is there.</summary>
    public bool Resume { get; init; }
    /// <summary>Hyperparameters to hold one value per weight, whatever the rule declares (e.g. the learning rate for HDLR).</summary>
    public IReadOnlyCollection<string>? PerWeight { get; init; }
    /// <summary>The metric reported beside the losses: its name and the factor from the loss to it (e.g. the target variance for MSE in original units).</summary>
    public string MetricName { get; init; } = "loss";
    public double MetricScale { get; init; } = 1;
    /// <summary>A metric computed from the model's output (e.g. <see cref="TrainTune.Metric.Accuracy"/>), reported instead of the scaled loss; null for none.</summary>
    public Metric? Metric { get; init; }
    /// <summary>Parameter groups with values of their own (torch.optim's param groups); null for none.</summary>
    public IReadOnlyList<ParameterGroup>? Groups { get; init; }
    /// <summary>Rule hyperparameters tuned as one value per parameter group.</summary>
    public IReadOnlyCollection<string>? PerGroup { get; init; }
    /// <summary>Schedules multiplying rule hyperparameters by the step, by name; null for none.</summary>
    public IReadOnlyDictionary<string, Schedule>? Schedules { get; init; }
    /// <summary>Gradient clipping in front of the rule, inside the weight update; null for none.</summary>
    internal GradientClipping? Clipping { get; init; }
    /// <summary>libtorch intra-op threads; null chooses from the run's work per step (one thread for small models, never more than the cores this process may use).</summary>
    public int? Threads { get; init; }
    /// <summary>The cores this run may use, when it shares the process's with other runs (experiments); null: all of the process's.</summary>
    internal int? CoreShare { get; init; }
    /// <summary>For tests: stop after this many blocks, as if killed right after a checkpoint.</summary>
    internal int? StopAfterBlocks { get; init; }
    /// <summary>
    /// A search's candidate that an earlier one has beaten: when its final validation loss is not
    /// below this (or not finite), it cannot be counted, and its train and test losses are not
    /// evaluated (NaN and null). Null evaluates every split.
    /// </summary>
    internal double? CountedBelowValidation { get; init; }

    public TuningRun On(TrainingData data) => this with { Data = data };
    public TuningRun Tune(Method method) => this with { Method = method };
    public TuningRun ForSteps(int steps) => this with { Steps = steps };
    public TuningRun WithBatchSize(int? batchSize, int? validationBatchSize = null) => this with { BatchSize = batchSize, ValidationBatchSize = validationBatchSize };
    public TuningRun WithSeed(long seed) => this with { Seed = seed };
    public TuningRun OnDevice(string device) => this with { Device = device };
    public TuningRun InPrecision(ScalarType precision) => this with { Precision = precision };
    public TuningRun RecordTo(string path) => this with { RecordPath = path };
    /// <summary>
    /// Writes TensorBoard event files into <paramref name="folder"/> after every block: the losses,
    /// every hyperparameter (mean, min and max for a per-weight one), the hypergradient norm and
    /// the hyper steps skipped so far. Open them with <c>tensorboard --logdir FOLDER</c>.
    /// </summary>
    public TuningRun LogToTensorBoard(string folder) => this with { TensorBoardPath = folder };
    /// <summary>Initial hyperparameter values by name, replacing the rule's and model's defaults.</summary>
    public TuningRun StartingFrom(IReadOnlyDictionary<string, double> values) => this with { InitialValues = values };
    public TuningRun OnProgress(Action<RunProgress> progress) => this with { Progress = progress };
    /// <summary>Makes the named hyperparameters hold one value per weight.</summary>
    public TuningRun WithPerWeight(params string[] names) => this with { PerWeight = names };
    /// <summary>
    /// Splits the model's parameters into <paramref name="groups"/>, each with its own initial values
    /// and held hyperparameters (e.g. <c>WithGroups(ParameterGroup.NoWeightDecayOnBiasesAndNorms())</c>);
    /// every trainable parameter must be in exactly one. Records, result.json, the report and
    /// TensorBoard show a grouped hyperparameter's value per group by name.
    /// </summary>
    public TuningRun WithGroups(params ParameterGroup[] groups) => this with { Groups = groups };
    /// <summary>Tunes the named rule hyperparameters as one value per parameter group (one learning rate per group: between one in all and one per weight).</summary>
    public TuningRun WithPerGroup(params string[] names) => this with { PerGroup = names };
    /// <summary>Reports losses also as <paramref name="name"/> = loss × <paramref name="scale"/>.</summary>
    public TuningRun WithMetric(string name, double scale) => this with { MetricName = name, MetricScale = scale, Metric = null };
    /// <summary>Reports <paramref name="metric"/> (e.g. <see cref="TrainTune.Metric.Accuracy"/>) on the full splits at the end, beside the losses.</summary>
    public TuningRun WithMetric(Metric metric) => this with { Metric = metric ?? throw new ArgumentNullException(nameof(metric)), MetricName = metric.Name, MetricScale = 1 };
    /// <summary>
    /// Clips the gradients before the rule sees them, inside the weight update, so that the
    /// hypergradient differentiates through the clipping: by global norm, g · min(1, maxNorm / (‖g‖ + 10⁻⁶))
    /// (<c>clip_grad_norm_</c>'s factor; the paper's LSTM uses 0.25), or by value, each element
    /// clamped to [−maxValue, maxValue]. Neither (the default) clips nothing.
    /// </summary>
    public TuningRun WithGradientClipping(double? maxNorm = null, double? maxValue = null) => this with { Clipping = GradientClipping.From(maxNorm, maxValue) };
    /// <summary>
    /// Multiplies rule hyperparameter <paramref name="name"/> by <paramref name="schedule"/> of the
    /// step (a warm-up, a cosine or step decay, a function of your own): the rule reads m(t) · λ at
    /// step t, and a tuning method tunes the base value λ through the multiplier. Records, progress
    /// and results show λ; the record's start line lists the schedules.
    /// </summary>
    public TuningRun WithSchedule(string name, Schedule schedule)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(schedule);
        var schedules = new Dictionary<string, Schedule>(Schedules ?? new Dictionary<string, Schedule>()) { [name] = schedule };
        return this with { Schedules = schedules };
    }
    /// <summary>Checkpoints weights, hyperparameters, optimiser and rule state every <paramref name="everyBlocks"/> hyper steps; deleted when the run ends.</summary>
    public TuningRun CheckpointTo(string path, int everyBlocks = 20) => this with { CheckpointPath = path, CheckpointEveryBlocks = everyBlocks };
    /// <summary>Continues from the checkpoint when one is there (set <see cref="CheckpointTo"/> too).</summary>
    public TuningRun ResumeFromCheckpoint(bool resume = true) => this with { Resume = resume };

    /// <summary>
    /// Uses <paramref name="threads"/> libtorch threads instead of the automatic choice (null restores it).
    /// libtorch's thread count is process-wide: runs in parallel threads of one process share it.
    /// </summary>
    public TuningRun WithThreads(int? threads) => threads is < 1
        ? throw new TrainTuneException($"WithThreads({threads}) is not valid: use a positive number of threads, or null for the automatic choice.")
        : this with { Threads = threads };

    /// <summary>Trains and tunes; throws <see cref="TrainTuneException"/> for bad input. A diverged run returns normally with <see cref="RunResult.DivergedAtStep"/> set.</summary>
    public RunResult Run() => Method is BestOfMethod bestOf ? BestOfStarts.Run(this, bestOf).Best : new Trainer(this).Run();

    /// <summary>
    /// Trains <paramref name="members"/> together as one population: their weights stacked into
    /// one model (an <c>nn.Sequential</c> or <c>Mlp</c> of linear layers and activations), each
    /// member with its own seed, initial values, hypergradient, hyper-optimiser state, divergence
    /// and record, and the same results as running each alone, in a fraction of the time for small
    /// models. Members share everything else (model factory, rule type, loss, data, method, steps,
    /// batch sizes, precision, device), e.g.
    /// <code>TuningRun.RunPopulation(seeds.Select(s => run.WithSeed(s).StartingFrom(ExperimentProtocol.RandomInitial(s, run.Rule)).RecordTo($"seed-{s}.jsonl")))</code>
    /// Returns one result per member, in order; a member's seconds are its share of the population's.
    /// </summary>
    public static IReadOnlyList<RunResult> RunPopulation(IEnumerable<TuningRun> members) =>
        Trainer.RunPopulation(members?.ToList() ?? throw new ArgumentNullException(nameof(members)));

    /// <summary>
    /// This run as run <paramref name="index"/> of a search's <paramref name="count"/>: no shared
    /// record or checkpoint file, and progress counted in steps and time over the whole search.
    /// </summary>
    internal TuningRun AsSearchCandidate(int index, int count, System.Diagnostics.Stopwatch clock) => this with
    {
        RecordPath = null,
        TensorBoardPath = null,
        CheckpointPath = null,
        Resume = false,
        Progress = Progress is { } report
            ? p => report(p with { Step = index * p.TotalSteps + p.Step, TotalSteps = count * p.TotalSteps, Elapsed = clock.Elapsed })
            : null,
    };

    /// <summary>
    /// This run as a search's next candidate after <paramref name="earlier"/>: unless it beats their
    /// best validation loss it cannot be counted (<see cref="SearchOutcome.BestByValidation"/> keeps
    /// the first of equals), so it evaluates its validation loss only.
    /// </summary>
    internal TuningRun CountedOnlyBelow(IReadOnlyList<RunResult> earlier) => this with { CountedBelowValidation = SearchOutcome.BestValidationSoFar(earlier) };

    internal Device ResolveDevice()
    {
        var name = Device.Trim().ToLowerInvariant();
        if (name == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (name == "cpu") return torch.CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new TrainTuneException($"Device '{Device}' was asked for, but CUDA is not available in this process: build with -p:TrainTuneBackend=cuda on a machine with an NVIDIA GPU and driver, or use device 'cpu' or 'auto'.");
            return torch.device(name);
        }
        throw new TrainTuneException($"Unknown device '{Device}': use cpu, cuda, cuda:N or auto.");
    }
}
