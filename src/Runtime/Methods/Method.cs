namespace TrainTune;

/// <summary>
/// How a run changes its hyperparameters. A method is a description; <see cref="Start"/>
/// makes the per-run tuner that finishes each block of weight steps.
/// </summary>
public abstract record Method
{
    /// <summary>The method's name in records and reports.</summary>
    public abstract string Name { get; }

    /// <summary>T, the weight steps per block (for the tuning methods: per hyper step); the last of each block are the tuner's.</summary>
    public abstract int StepsPerBlock { get; }

    internal abstract IBlockTuner Start(Learner learner);

    /// <summary>The tuner of a run whose member i runs <paramref name="members"/>[i] (methods equal by <see cref="PopulationKey"/>).</summary>
    internal virtual IBlockTuner Start(Learner learner, IReadOnlyList<Method> members) => Start(learner);

    /// <summary>What members of one population must share: the method with any per-member parameter left out.</summary>
    internal virtual string PopulationKey => Describe(this);

    /// <summary>The method's parameters as text, compared by value (lists included).</summary>
    private protected static string Describe(Method method) =>
        method.Name + System.Text.Json.JsonSerializer.Serialize(method, method.GetType(), Hosting.ProtocolJson.Options);

    /// <summary>Hyperparameters stay at their initial values; blocks of <paramref name="stepsPerBlock"/> steps set the record's granularity.</summary>
    public static Method Fixed(int stepsPerBlock = 10) => new FixedMethod(stepsPerBlock);

    /// <summary>Fixed hyperparameters, but the learning rate is multiplied by <paramref name="factor"/> after every block, within its bounds.</summary>
    public static Method LearningRateMultiplier(double factor, int stepsPerBlock = 10) => new LearningRateMultiplierMethod(factor, stepsPerBlock);

    /// <summary>
    /// Hypergradient descent (Baydin et al.): after every weight step, x = log10 η moves by plain
    /// SGD with learning rate <paramref name="hyperLearningRate"/>, using h = −∇L(w_t)·∇L(w_{t−1})
    /// of the training batches as the gradient of x.
    /// </summary>
    public static Method HypergradientDescent(double hyperLearningRate = 0.001, int stepsPerBlock = 10) => new HypergradientDescentMethod(hyperLearningRate, stepsPerBlock);

    /// <summary>
    /// Exact differentiation through the last <paramref name="unrolledSteps"/> of every
    /// <paramref name="stepsPerBlock"/> weight steps (the paper's Diff-through-Opt), Adam on the raw
    /// values of the hyperparameters in <paramref name="tune"/> (all when null).
    /// </summary>
    public static Method DiffThroughOpt(int stepsPerBlock = 10, int unrolledSteps = 5, double hyperLearningRate = 0.05, IReadOnlyList<string>? tune = null) =>
        new DiffThroughOptMethod(stepsPerBlock, unrolledSteps, hyperLearningRate, tune);

    /// <summary>
    /// The one-pass implicit method: every <paramref name="stepsPerHyperstep"/> weight steps,
    /// one tracked step, a hypergradient with <paramref name="neumannTerms"/> Neumann terms and
    /// an Adam step (learning rate <paramref name="hyperLearningRate"/>) on the raw values of
    /// the hyperparameters named in <paramref name="tune"/> (all when null).
    /// </summary>
    public static Method OnePass(int stepsPerHyperstep = 10, int neumannTerms = 5, double hyperLearningRate = 0.05,
        IReadOnlyList<string>? tune = null) => new OnePassMethod(stepsPerHyperstep, neumannTerms, hyperLearningRate, tune);

    /// <summary>
    /// Best of several starts (TrainTuneStarts in the build): <paramref name="starts"/> runs of <paramref name="method"/> trained together
    /// as one population (the model must be an <c>nn.Sequential</c> or <c>Mlp</c> of linear layers and
    /// activations): start 0 from the run's own seed and initial values, the others from seeds of
    /// their own and the paper's random initial values (learning rate, weight decay, momentum). The
    /// start with the lowest final validation loss is the run's result; with a record, each start's
    /// is <c>record-start-k.jsonl</c> beside it and the winner's is the record.
    /// </summary>
    public static Method BestOf(int starts, Method method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (starts < 1) throw new TrainTuneException($"BestOf needs at least one start, not {starts}.");
        if (method is BestOfMethod) throw new TrainTuneException("BestOf of a BestOf: give the number of starts once.");
        return new BestOfMethod(starts, method);
    }
}

/// <summary>Finishes each block of weight steps for one run.</summary>
internal interface IBlockTuner : IDisposable
{
    /// <summary>One of the block's other weight steps (every step of a short last block); plain by default. Returns the training loss per member.</summary>
    TorchSharp.torch.Tensor Step(Learner learner, ModelLoss loss) => learner.UntrackedStep(loss, out _);

    /// <summary>Weight steps at the end of each full block that are the tuner's own: <see cref="FinishingStep"/> takes all but the last, <see cref="FinishBlock"/> the last.</summary>
    int FinishingSteps => 1;

    /// <summary>One of the block's finishing steps before its last, taken now (Diff-through-Opt keeps its graph). Returns the training loss per member.</summary>
    TorchSharp.torch.Tensor FinishingStep(Learner learner, ModelLoss loss) =>
        throw new InvalidOperationException($"{GetType().Name} takes one finishing step; it is taken by FinishBlock.");

    /// <summary>
    /// The end of a full block: takes its last weight step on <paramref name="loss"/> and tunes
    /// on <paramref name="validation"/>. The outcome's TrainLoss is that step's loss per member.
    /// </summary>
    BlockOutcome FinishBlock(Learner learner, ModelLoss loss, ModelLoss validation);

    /// <summary>Writes the tuner's own state (e.g. the hyper-optimiser's moments).</summary>
    void Save(Checkpoint checkpoint);

    void Load(Checkpoint checkpoint);
}

/// <summary>
/// The end of a block: the training loss of its last step ([members]),
/// and what tuning did for each member (null where it does not tune).
/// </summary>
internal sealed record BlockOutcome(TorchSharp.torch.Tensor TrainLoss, double[]? ValidationLoss = null, double[]? HypergradientNorm = null, bool[]? HyperstepSkipped = null,
    string[][]? NotFinite = null);
