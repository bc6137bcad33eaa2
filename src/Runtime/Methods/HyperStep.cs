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
    /// unless the hypergradient is not finite (then nothing changes and the step counts as skipped).
    /// Returns the hypergradient's norm and whether the step was skipped.
    /// </summary>
    public static (double Norm, bool Skipped) Apply(HyperAdam adam, Learner learner, IReadOnlyList<int> tuned, IReadOnlyList<Tensor> leaves, IReadOnlyList<Tensor> hypergradient)
    {
        var squares = hypergradient.Select(g => g.square().sum().to(ScalarType.Float64)).ToArray();
        var norm = squares.Length == 0 ? 0.0 : Math.Sqrt(torch.stack(squares).sum().item<double>());
        var skipped = !double.IsFinite(norm);
        if (!skipped)
        {
            adam.Step(leaves, hypergradient);
            foreach (var h in tuned) learner.Hyperparameters.Clamp(h);
        }
        learner.BeginBlock();
        return (norm, skipped);
    }
}
