using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A token sequence laid out as parallel streams and cut into windows, for truncated
/// back-propagation through time (PyTorch's word-language-model layout): the tokens, trimmed to
/// a multiple of <see cref="Streams"/>, are the rows of a [streams, length] matrix, stream s
/// holding the s-th consecutive piece; window i is columns [i·T, i·T + T) as inputs and the same
/// shifted by one as targets (the last window may be shorter).
/// </summary>
public sealed class SequenceStreams
{
    readonly Tensor _data;

    /// <param name="tokens">Token ids, one dimension, integer.</param>
    /// <param name="streams">Parallel streams (the batch size).</param>
    /// <param name="window">Tokens per window (the back-propagation length).</param>
    /// <param name="vocabulary">When given, every token must be in [0, vocabulary).</param>
    public SequenceStreams(Tensor tokens, int streams, int window, long? vocabulary = null)
    {
        if (tokens.dim() != 1 || tokens.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new TrainTuneException($"SequenceStreams takes token ids as one dimension of integers, not a {tokens.dtype} tensor of shape [{string.Join(", ", tokens.shape)}].");
        if (streams < 1) throw new TrainTuneException($"SequenceStreams: the number of streams must be at least 1, not {streams}.");
        var length = tokens.shape[0] / streams;
        if (length < 2)
            throw new TrainTuneException($"SequenceStreams: {tokens.shape[0]} tokens make streams of {length} tokens each in {streams} streams; a stream needs at least 2 (an input and its target). Use fewer streams.");
        if (window < 1 || window > length - 1)
            throw new TrainTuneException($"SequenceStreams: the window length must be between 1 and {length - 1} (each of the {streams} streams holds {length} tokens), not {window}.");
        if (vocabulary is { } size)
        {
            var outside = (tokens < 0).logical_or(tokens >= size).nonzero();
            if (outside.shape[0] > 0)
            {
                var position = outside[0, 0].item<long>();
                throw new TrainTuneException($"Token {tokens[position].item<long>()} at position {position} is outside the vocabulary of {size} ids [0, {size}); check the data or the vocabulary size.");
            }
        }
        (Streams, Window, Length) = (streams, window, length);
        _data = tokens.to(ScalarType.Int64).narrow(0, 0, streams * length).reshape(streams, length).DetachFromDisposeScope();
        Windows = WindowsOf(length, window);
    }

    SequenceStreams(Tensor data, int window) =>
        (_data, Streams, Window, Length, Windows) = (data, (int)data.shape[0], window, data.shape[1], WindowsOf(data.shape[1], window));

    /// <summary>Windows of <paramref name="window"/> tokens over a stream of <paramref name="length"/>: every token but the last is an input once.</summary>
    static int WindowsOf(long length, int window) => (int)((length - 1 + window - 1) / window);

    /// <summary>This text followed by <paramref name="next"/>'s, laid out in this one's streams and windows.</summary>
    internal SequenceStreams Then(SequenceStreams next) =>
        new(torch.cat([_data.flatten(), next._data.flatten().to(_data.device)]), Streams, Window);

    /// <summary>The same streams on <paramref name="device"/>.</summary>
    internal SequenceStreams To(Device device) => new(_data.to(device).DetachFromDisposeScope(), Window);

    internal Device Device => _data.device;

    /// <summary>Every token once as a target: the number of tokens a full evaluation averages over.</summary>
    internal long Targets => Streams * (Length - 1);

    public int Streams { get; }
    public int Window { get; }

    /// <summary>Tokens per stream.</summary>
    public long Length { get; }

    /// <summary>Windows per pass over the streams (an epoch).</summary>
    public int Windows { get; }

    /// <summary>Window <paramref name="index"/> (mod <see cref="Windows"/>): inputs [streams, T], targets the next tokens, [streams, T] (a model's output is [streams, T, vocabulary]).</summary>
    public Split At(int index)
    {
        var start = (long)(index % Windows) * Window;
        var size = Math.Min(Window, Length - 1 - start);
        return new Split(_data.narrow(1, start, size), _data.narrow(1, start + 1, size));
    }

    /// <summary>Every window in order (one epoch).</summary>
    public IEnumerable<Split> InOrder() => Enumerable.Range(0, Windows).Select(At);
}
