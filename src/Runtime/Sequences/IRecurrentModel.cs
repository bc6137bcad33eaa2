using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A model whose forward pass takes and returns a state carried from one window of a sequence
/// to the next (an LSTM's hidden and cell state): truncated back-propagation through time. The
/// state lives outside the model, in a <see cref="CarriedState"/> per stream set (training,
/// validation, evaluation), so that the tuner's other instances of the model (the shadow on which
/// validation losses are taken, Diff-through-Opt's unrolled copies) never disturb it. Its plain
/// <c>forward(input)</c> should start from <see cref="InitialState"/>.
/// </summary>
public interface IRecurrentModel
{
    /// <summary>The state at the start of <paramref name="streams"/> parallel streams (zeros, usually), on the model's device and dtype.</summary>
    Tensor[] InitialState(long streams);

    /// <summary>The output for <paramref name="window"/> ([streams, length, …]) from <paramref name="state"/>, and the state after it.</summary>
    (Tensor Output, Tensor[] State) Forward(Tensor window, Tensor[] state);
}
