using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>What the gradient-based tuners (one-pass, Diff-through-Opt) share: which hyperparameters they tune, and the hyper step itself.</summary>
internal static class HyperStep
{
    /// <summary>The indices of the hyperparameters named in <paramref name="tune"/> (all that are tuned by default when null); an unknown name is an error for <paramref name="method"/>.</summary>
    public static int[] Tuned(HyperparameterSet set, IReadOnlyList<string>? tune, string method) =>
        tune is null
            ? Enumerable.Range(0, set.Specs.Count).Where(h => set.Specs[h].TunedByDefault).ToArray()
            : tune.Select(name => set.IndexOf(name) is var h and >= 0 ? h
                : throw new TrainTuneException($"{method} cannot tune '{name}': the run's hyperparameters are {string.Join(", ", set.Specs.Select(s => s.Name))}.")).ToArray();

    /// <summary>
    /// An Adam step on the tuned raw values with <paramref name="hypergradient"/> and the clamps,
    /// for each member whose hypergradient is finite (for the others nothing changes and the step
    /// counts as skipped); a frozen member of a population changes no more. Returns each member's
    /// hypergradient norm, whether its step was skipped, and the tuned hyperparameters whose
    /// hypergradient was not finite (empty for a step taken).
    /// </summary>
    public static (double[] Norms, bool[] Skipped, string[][] NotFinite) Apply(HyperAdam adam, Learner learner, IReadOnlyList<int> tuned, IReadOnlyList<Tensor> leaves, IReadOnlyList<Tensor> hypergradient)
    {
        var members = learner.Members;
        var set = learner.Hyperparameters;
        var norms = new double[members];
        var notFinite = new string[members][];
        Array.Fill(notFinite, []);
        if (hypergradient.Count > 0)
        {
            // One transfer: the squared norm of each leaf's hypergradient per member, [leaves, members].
            var squares = torch.stack(hypergradient.Select(g => set.Layout.Sum(g.square()).to(ScalarType.Float64).reshape(-1)).ToArray())
                .cpu().data<double>().ToArray();
            for (var m = 0; m < members; m++)
            {
                var bad = new List<string>();
                var (sum, leaf) = (0.0, 0);
                foreach (var h in tuned)
                {
                    var hyperparameter = 0.0;
                    for (var r = 0; r < set.Raw(h).Count; r++, leaf++) hyperparameter += squares[leaf * members + m];
                    if (!double.IsFinite(hyperparameter)) bad.Add(set.Specs[h].Name);
                    sum += hyperparameter;
                }
                (norms[m], notFinite[m]) = (Math.Sqrt(sum), [.. bad]);
            }
        }
        var skipped = norms.Select(n => !double.IsFinite(n)).ToArray();
        adam.Step(leaves, hypergradient, norms.Select((n, i) => !skipped[i] && learner.Alive[i]).ToArray());
        if (skipped.Any(s => !s))
            foreach (var h in tuned) learner.Hyperparameters.Clamp(h);
        learner.BeginBlock();
        return (norms, skipped, notFinite);
    }

    /// <summary>Why a hyper step was skipped, naming the hyperparameters whose hypergradient was not finite.</summary>
    public static string SkipReason(IReadOnlyList<string>? notFinite) =>
        (notFinite is { Count: > 0 } ? $"the hypergradient of {string.Join(", ", notFinite)} was not finite (NaN or Inf)" : "the hypergradient was not finite (NaN or Inf)")
        + "; the hyperparameters were left unchanged";
}

/// <summary>
/// A tuner that takes Adam steps on the raw values of the hyperparameters it tunes (one-pass,
/// Diff-through-Opt): they differ only in how the block ends and its hypergradient is computed.
/// </summary>
internal abstract class AdamBlockTuner : IBlockTuner
{
    readonly Tensor[] _leaves;
    readonly string[] _leafNames;
    readonly HyperAdam _adam;

    protected AdamBlockTuner(Learner learner, IReadOnlyList<string>? tune, string method, double hyperLearningRate)
    {
        var set = learner.Hyperparameters;
        Tuned = HyperStep.Tuned(set, tune, method);
        foreach (var h in Tuned) set.Track(h, method);
        _leaves = Tuned.SelectMany(h => set.Raw(h)).ToArray();
        _leafNames = Tuned.SelectMany(learner.RawNames).ToArray();
        _adam = new HyperAdam(set.Layout, hyperLearningRate);
    }

    /// <summary>The indices of the tuned hyperparameters.</summary>
    protected int[] Tuned { get; }

    public virtual int FinishingSteps => 1;

    public virtual TorchSharp.torch.Tensor FinishingStep(Learner learner, ModelLoss loss) =>
        throw new InvalidOperationException($"{GetType().Name} takes one finishing step; it is taken by FinishBlock.");

    public abstract BlockOutcome FinishBlock(Learner learner, ModelLoss loss, ModelLoss validation);

    /// <summary>The hyper step on <paramref name="hypergradient"/>, and the block's outcome (the last step's loss moved out of the caller's scope).</summary>
    protected BlockOutcome Finish(Learner learner, Tensor trainLoss, Tensor validationLoss, IReadOnlyList<Tensor> leaves, IReadOnlyList<Tensor> hypergradient)
    {
        var (norm, skipped, notFinite) = HyperStep.Apply(_adam, learner, Tuned, leaves, hypergradient);
        var validation = validationLoss.to(ScalarType.Float64).cpu().data<double>().ToArray();
        return new BlockOutcome(trainLoss.MoveToOuterDisposeScope(), validation, norm, skipped, notFinite);
    }

    public void Save(Checkpoint checkpoint) => _adam.Save(checkpoint, _leafNames, _leaves);

    public void Load(Checkpoint checkpoint) => _adam.Load(checkpoint, _leafNames, _leaves);

    public virtual void Dispose() => _adam.Dispose();
}
