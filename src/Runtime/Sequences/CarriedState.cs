using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The state of an <see cref="IRecurrentModel"/> carried across the windows of one set of
/// streams: every <see cref="Forward"/> starts from it and leaves the state after the window,
/// detached (truncated back-propagation: gradients stop at the window's start), as the state for
/// the next window. Keep one per stream set, as the paper's authors do: one for training, one for
/// the validation loss the tuner takes (a call per hyper step), one for an evaluation.
/// <code>
/// var trainState = new CarriedState(); var validationState = new CarriedState();
/// tuner.Step(m => lossFn(trainState.Forward(m, x), y), m => lossFn(validationState.Forward(m, xv), yv));
/// </code>
/// </summary>
public sealed class CarriedState : IDisposable
{
    Tensor[]? _state;
    long _streams = -1; // the streams of the window that left the state; -1 when unknown (loaded)

    /// <summary>The state the next window starts from; null before the first (the model's initial state).</summary>
    public IReadOnlyList<Tensor>? Current => _state;

    /// <summary>
    /// The model's output for <paramref name="window"/> from the carried state; the state after
    /// the window is carried, detached, to the next call. Any instance of the model may be given
    /// (the tuner hands the loss the instance it is about).
    /// </summary>
    public Tensor Forward(nn.Module<Tensor, Tensor> model, Tensor window)
    {
        if (model is not IRecurrentModel recurrent)
            throw new TrainTuneException($"CarriedState needs a model that takes and returns its state: {model.GetType().Name} does not implement IRecurrentModel.");
        if (window.dim() < 1) throw new TrainTuneException("A window must have its streams as the first dimension; it is a scalar.");
        var streams = window.shape[0];
        var state = _state ?? recurrent.InitialState(streams);
        // Only a window of another width can misfit: the state came from a window of _streams.
        if (_state is not null && streams != _streams) Check(recurrent, streams);
        var (output, next) = recurrent.Forward(window, state);
        if (next.Length != state.Length)
            throw new TrainTuneException($"{model.GetType().Name}.Forward returned {next.Length} state tensors for the {state.Length} it was given; it must return the state in the form it takes it.");
        Carry(next);
        _streams = streams;
        return output;
    }

    /// <summary>Starts again from the model's initial state (a new epoch, another number of streams).</summary>
    public void Reset() => Carry(null);

    void Carry(Tensor[]? next)
    {
        var old = _state;
        _state = next?.Select(t => t.detach().clone().DetachFromDisposeScope()).ToArray();
        if (old is not null) foreach (var t in old) t.Dispose();
    }

    /// <summary>A carried state that does not fit a window of <paramref name="streams"/> streams: say which tensor and dimension.</summary>
    void Check(IRecurrentModel model, long streams)
    {
        using var scope = torch.NewDisposeScope();
        var fresh = model.InitialState(streams);
        for (var k = 0; k < _state!.Length && k < fresh.Length; k++)
        {
            var (have, want) = (_state[k].shape, fresh[k].shape);
            if (have.SequenceEqual(want)) continue;
            var d = Enumerable.Range(0, Math.Min(have.Length, want.Length)).FirstOrDefault(i => have[i] != want[i], Math.Min(have.Length, want.Length));
            throw new TrainTuneException($"The carried state's tensor {k} has shape [{string.Join(", ", have)}], but a window of {streams} streams needs [{string.Join(", ", want)}] (dimension {d} differs): " +
                "a carried state holds one row per stream, so every window of a stream set must have the same number of streams; call Reset() when it changes.");
        }
    }

    /// <summary>Writes the state (if any) under <paramref name="name"/>, for a checkpoint's exact resume.</summary>
    internal void Save(Checkpoint checkpoint, string name)
    {
        checkpoint.Put($"{name}/count", torch.tensor(_state?.Length ?? 0));
        for (var k = 0; k < (_state?.Length ?? 0); k++) checkpoint.Put($"{name}/{k}", _state![k]);
    }

    internal void Load(Checkpoint checkpoint, string name, Device device)
    {
        var count = checkpoint.Get($"{name}/count", torch.CPU)?.item<int>() ?? 0;
        Carry(count == 0 ? null : Enumerable.Range(0, count).Select(k => checkpoint.Get($"{name}/{k}", device)!).ToArray());
        _streams = -1;
    }

    public void Dispose() => Carry(null);
}
