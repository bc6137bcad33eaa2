using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The update rule's state carried between steps, [weight][state name] (null before the rule
/// first sets it). A step works on a copy of the rows and hands the new state back, so a step
/// that fails leaves the state as it was.
/// </summary>
internal sealed class RuleState(int weights, int names) : IDisposable
{
    readonly Tensor?[][] _state = Enumerable.Range(0, weights).Select(_ => new Tensor?[names]).ToArray();

    /// <summary>Whether the rule has not set any state yet (before its first step).</summary>
    public bool Empty => _state.Length == 0 || _state[0].All(s => s is null);

    public Tensor? this[int weight, int name] => _state[weight][name];

    /// <summary>The rows to hand a step, which replaces entries in them.</summary>
    public Tensor?[][] Copy() => _state.Select(perWeight => (Tensor?[])perWeight.Clone()).ToArray();

    /// <summary>Takes the rule's new state out of the step's dispose scope and frees the old.</summary>
    public void Keep(Tensor?[][] next)
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

    /// <summary>As <see cref="Keep"/>, without the graph that made the new state.</summary>
    public void KeepDetached(Tensor?[][] next) => Keep(next.Select(perWeight => perWeight.Select(s => s?.detach()).ToArray()).ToArray());

    /// <summary>Replaces every entry with <paramref name="loaded"/> (a checkpoint's, already checked).</summary>
    public void Replace(Tensor?[][] loaded)
    {
        for (var k = 0; k < _state.Length; k++)
            for (var s = 0; s < _state[k].Length; s++)
            {
                _state[k][s]?.Dispose();
                _state[k][s] = loaded[k][s]?.DetachFromDisposeScope();
            }
    }

    public void Dispose()
    {
        foreach (var perWeight in _state) foreach (var s in perWeight) s?.Dispose();
    }
}
