using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>What the gradient-based tuners (one-pass, Diff-through-Opt) share: which hyperparameters they tune, and the hyper step itself.</summary>
internal static class HyperStep
{
    /// <summary>The indices of the hyperparameters named in <paramref name="tune"/> (all when null); an unknown name is an error for <paramref name="method"/>.</summary>
    public static int[] Tuned(HyperparameterSet set, IReadOnlyList<string>? tune, string method) =>
        tune is null
            ? Enumerable.Range(0, set.Specs.Count).ToArray()
            : tune.Select(name => set.IndexOf(name) is var h and >= 0 ? h
                : throw new TrainTuneException($"{method} cannot tune '{name}': the run's hyperparameters are {string.Join(", ", set.Specs.Select(s => s.Name))}.")).ToArray();

    /// <summary>
    /// An Adam step on the tuned raw values with <paramref name="hypergradient"/> and the clamps,
    /// for each member whose hypergradient is finite (for the others nothing changes and the step
    /// counts as skipped); a frozen member of a population changes no more. Returns each member's
    /// hypergradient norm and whether its step was skipped.
    /// </summary>
    public static (double[] Norms, bool[] Skipped) Apply(HyperAdam adam, Learner learner, IReadOnlyList<int> tuned, IReadOnlyList<Tensor> leaves, IReadOnlyList<Tensor> hypergradient)
    {
        var members = learner.Members;
        double[] norms;
        if (hypergradient.Count == 0) norms = new double[members];
        else
        {
            // Row i of every raw tensor is member i's (a single run has one member and no such dimension).
            var squares = hypergradient.Select(g => g.square().reshape(members, -1).sum([1]).to(ScalarType.Float64)).ToArray();
            norms = torch.stack(squares).sum([0]).sqrt().cpu().data<double>().ToArray();
        }
        var skipped = norms.Select(n => !double.IsFinite(n)).ToArray();
        if (learner.Hyperparameters.Members is null)
        {
            if (!skipped[0]) adam.Step(leaves, hypergradient);
        }
        else
            adam.Step(leaves, hypergradient, norms.Select((n, i) => !skipped[i] && learner.Alive[i]).ToArray());
        if (skipped.Any(s => !s))
            foreach (var h in tuned) learner.Hyperparameters.Clamp(h);
        learner.BeginBlock();
        return (norms, skipped);
    }
}
