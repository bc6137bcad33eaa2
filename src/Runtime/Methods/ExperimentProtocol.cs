using TrainTune.Hosting;

namespace TrainTune;

/// <summary>
/// The methods selectable by name (TrainTuneMethod / TrainTuneMethods, or <see cref="Run"/> from
/// C#): the paper's names for its experiments, plus OnePass and Fixed. Most are a change to one
/// run (<see cref="Apply"/>); Random3Batched and BayesOpt are searches over several whole runs.
/// </summary>
public static class ExperimentProtocol
{
    const string LearningRate = "learningRate", Momentum = "momentum", WeightDecay = "weightDecay";

    static readonly Dictionary<string, Func<TuningRun, TuningRun>> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        [MethodName.OnePass] = run => run.Tune(Method.OnePass()),
        [MethodName.Fixed] = run => run.Tune(Method.Fixed()),
        // Fixed hyperparameters, trained on training + validation data together.
        [MethodName.Random] = run => run.Tune(Method.Fixed()).On(TrainOnTrainingAndValidation(run)),
        // As Random, and the learning rate multiplied after every block by r ~ U[0.995, 1.001], drawn once per run.
        [MethodName.RandomLrMultiplier] = run => run.Tune(Method.LearningRateMultiplier(LearningRateFactor(run.Seed))).On(TrainOnTrainingAndValidation(run)),
        // Hypergradient descent on log10 η after every step (lr 0.001), the rest fixed.
        [MethodName.Baydin] = run => run.Tune(Method.HypergradientDescent(0.001)),
        // The one-pass method with only weight decay tuned (Lorraine et al.'s IFT setting).
        [MethodName.Lorraine] = run => Tuning(run, MethodName.Lorraine, WeightDecay),
        [MethodName.OursWdLr] = run => Tuning(run, MethodName.OursWdLr, LearningRate, WeightDecay),
        [MethodName.OursWdLrM] = run => Tuning(run, MethodName.OursWdLrM, LearningRate, WeightDecay, Momentum),
        // Exact back-propagation through the last 5 of every 10 steps, Adam 0.05 on η, ξ, μ.
        [MethodName.DiffThroughOpt] = run => run.Tune(Method.DiffThroughOpt(tune: Checked(run, MethodName.DiffThroughOpt, LearningRate, WeightDecay, Momentum))),
        [MethodName.OursWdHdlrM] = run => Tuning(run, MethodName.OursWdHdlrM, LearningRate, WeightDecay, Momentum).WithPerWeight(LearningRate),
        // The learning-rate-free optimisers with their authors' defaults, nothing tuned; like Random
        // they use no validation data, so they train on training + validation data.
        [MethodName.ScheduleFree] = run => OwnRule(run, new ScheduleFreeAdamW()).Tune(Method.Fixed()).On(TrainOnTrainingAndValidation(run)),
        [MethodName.Prodigy] = run => OwnRule(run, new Prodigy()).Tune(Method.Fixed()).On(TrainOnTrainingAndValidation(run)),
        [MethodName.DAdaptation] = run => OwnRule(run, new DAdaptAdam()).Tune(Method.Fixed()).On(TrainOnTrainingAndValidation(run)),
        [MethodName.DoG] = run => OwnRule(run, new DoG()).Tune(Method.Fixed()).On(TrainOnTrainingAndValidation(run)),
        // One-pass tuning of what they still have, from their defaults: the factor λ on the step
        // size and β1 (Schedule-Free's interpolation β). Prodigy's d_coef reaches a step only
        // through d ε (d is state), so the one-step hypergradient cannot tune it; λ scales the
        // same step size d λ directly.
        [MethodName.OursProdigy] = run => Tuning(OwnRule(run, new Prodigy()), MethodName.OursProdigy, LearningRate, Prodigy.Beta1),
        [MethodName.OursScheduleFree] = run => Tuning(OwnRule(run, new ScheduleFreeAdamW()), MethodName.OursScheduleFree, LearningRate, ScheduleFreeAdamW.Beta1),
    };

    /// <summary>Whether <paramref name="name"/> brings its own rule and starts from its defaults (no random initial values apply).</summary>
    public static bool UsesItsOwnRule(string name) => MethodCatalogue.Find(name) is { Kind: MethodKind.OwnRule };

    /// <summary><paramref name="run"/> with <paramref name="rule"/> at its defaults (initial values or per-weight choices meant for the target's rule dropped).</summary>
    static TuningRun OwnRule(TuningRun run, IWeightUpdate rule) => run with { Rule = rule, InitialValues = null, PerWeight = null };

    /// <summary>Three runs with fixed hyperparameters on the training data only; the one with the lowest final validation loss counts.</summary>
    public const string Random3Batched = MethodName.Random3Batched;

    /// <summary>Bayesian optimisation over whole training runs (see <see cref="Search.BayesOpt"/>).</summary>
    public const string BayesOpt = MethodName.BayesOpt;

    /// <summary>Every name, in the order of the one list of them (the method catalogue the build and the host share).</summary>
    public static IReadOnlyCollection<string> All => MethodCatalogue.Names;

    static bool Is(string name, string method) => string.Equals(name, method, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="name"/> is a search over several whole runs (Random3Batched, BayesOpt), not a change to one run.</summary>
    public static bool IsSearch(string name) => MethodCatalogue.Find(name) is { Kind: MethodKind.Search };

    /// <summary><paramref name="run"/> changed as the one-run method <paramref name="name"/> asks.</summary>
    public static TuningRun Apply(string name, TuningRun run) =>
        Known.TryGetValue(name, out var apply) ? apply(run)
        : IsSearch(name) ? throw new TrainTuneException($"{Canonical(name)} is a search over several whole runs, not a change to one run; run it with ExperimentProtocol.Run(\"{Canonical(name)}\", run).")
        : throw Unknown(name);

    /// <summary>
    /// Runs <paramref name="run"/> with the method <paramref name="name"/>: one run, or for the
    /// searches the counted run of several (its seconds are theirs together). With
    /// <paramref name="outputDirectory"/>, a search writes its records and tables there.
    /// </summary>
    public static RunResult Run(string name, TuningRun run, string? outputDirectory = null) =>
        Is(name, Random3Batched) ? Search.Random3Batched(run, outputDirectory).Best
        : Is(name, BayesOpt) ? Search.BayesOpt(run, outputDirectory).Best
        : Apply(name, run).Run();

    /// <summary>The name as <see cref="All"/> spells it (names match without regard to case).</summary>
    public static string Canonical(string name) => MethodCatalogue.Find(name)?.Name ?? throw Unknown(name);

    static TrainTuneException Unknown(string name) => new($"Unknown method '{name}'; the valid ones are: {string.Join(", ", All)}.");

    static TuningRun Tuning(TuningRun run, string method, params string[] names) => run.Tune(Method.OnePass(tune: Checked(run, method, names)));

    static string[] Checked(TuningRun run, string method, params string[] names)
    {
        var missing = names.Where(n => run.Rule.Hyperparameters.All(h => h.Name != n)).ToList();
        if (missing.Count > 0)
            throw new TrainTuneException($"Method {method} tunes {string.Join(", ", names)}, but the rule {run.Rule.GetType().Name} has no {string.Join(" or ", missing)} (it has {string.Join(", ", run.Rule.Hyperparameters.Select(h => h.Name))}).");
        return names;
    }

    // One joined copy per data set, so that the members of a population share it.
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TrainingData, TrainingData> Joined = [];

    static TrainingData TrainOnTrainingAndValidation(TuningRun run)
    {
        var data = run.Data ?? throw new TrainTuneException("The run has no data.");
        return Joined.GetValue(data, d =>
        {
            if (d.Streams is { } streams)
            {
                // Token streams: the validation text follows the training text, laid out in the training streams again.
                var joined = streams.Train.Then(streams.Validation);
                return d with { Train = joined.At(0), Streams = streams with { Train = joined } };
            }
            return d with
            {
                Train = new Split(
                    TorchSharp.torch.cat([d.Train.Inputs, d.Validation.Inputs]).DetachFromDisposeScope(),
                    TorchSharp.torch.cat([d.Train.Targets, d.Validation.Targets]).DetachFromDisposeScope()),
            };
        });
    }

    /// <summary>The learning-rate factor of RandomLrMultiplier for <paramref name="seed"/>: U[0.995, 1.001].</summary>
    public static double LearningRateFactor(long seed) => 0.995 + 0.006 * new Random(unchecked((int)(seed * 40503L % int.MaxValue)) + 1).NextDouble();

    /// <summary>
    /// The paper's ranges for random initial values and for BayesOpt, each as a map from
    /// u ∈ [0, 1]: log10 η ∈ [−6, −1], log10 ξ ∈ [−7, −2], μ ∈ (0, 1) (kept off its ends).
    /// </summary>
    internal static readonly (string Name, Func<double, double> FromUnit)[] PaperRanges =
    [
        (LearningRate, u => Math.Pow(10, -6 + 5 * u)),
        (WeightDecay, u => Math.Pow(10, -7 + 5 * u)),
        (Momentum, u => Math.Clamp(u, 1e-4, 1 - 1e-4)),
    ];

    /// <summary>
    /// The paper's random initial hyperparameters for <paramref name="seed"/>, uniform in
    /// <see cref="PaperRanges"/>; only those the rule has.
    /// </summary>
    public static Dictionary<string, double> RandomInitial(long seed, IWeightUpdate rule)
    {
        var random = new Random(unchecked((int)(seed * 2654435761L % int.MaxValue)));
        var drawn = PaperRanges.Select(r => (r.Name, Value: r.FromUnit(random.NextDouble()))).ToList();
        return drawn.Where(d => rule.Hyperparameters.Any(h => h.Name == d.Name)).ToDictionary(d => d.Name, d => d.Value);
    }
}
