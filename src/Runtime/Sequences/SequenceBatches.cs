using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A run's batches from token streams: the windows in order, each carrying the stream set's
/// state (<see cref="Split.State"/>); every pass over the streams (an epoch) starts again from
/// the model's initial state, as PyTorch's word-language-model does.
/// </summary>
internal sealed class SequenceBatches(SequenceStreams streams) : IBatchSource
{
    readonly CarriedState _state = new();
    long _taken;

    public Split Next()
    {
        if (_taken > 0 && _taken % streams.Windows == 0) _state.Reset();
        return streams.At((int)(_taken++ % streams.Windows)) with { State = _state };
    }

    public void Save(Checkpoint checkpoint, string name)
    {
        checkpoint.Put($"{name}/taken", torch.tensor(_taken));
        _state.Save(checkpoint, $"{name}/state");
    }

    public void Load(Checkpoint checkpoint, string name)
    {
        _taken = checkpoint.Get($"{name}/taken", torch.CPU)!.item<long>();
        _state.Load(checkpoint, $"{name}/state", streams.Device);
    }

    public void Dispose() => _state.Dispose();
}
