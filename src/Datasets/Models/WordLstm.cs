using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A word-level language model: embedding → LSTM (batch first) → linear decoder to the
/// vocabulary, its hidden and cell state carried between windows outside the model
/// (<see cref="IRecurrentModel"/>). The paper's Penn Treebank model is <c>new WordLstm(10_000, 650, 650, 2)</c>.
/// </summary>
public sealed class WordLstm : nn.Module<Tensor, Tensor>, IRecurrentModel
{
#pragma warning disable IDE1006 // RegisterComponents names the submodules after the fields: "encoder.…", "lstm.…", "decoder.…"
    readonly nn.Module<Tensor, Tensor> encoder, decoder;
    readonly TorchSharp.Modules.LSTM lstm;
#pragma warning restore IDE1006
    readonly int _hidden, _layers;

    public WordLstm(int vocabulary, int embedding, int hidden, int layers = 1) : base(nameof(WordLstm))
    {
        if (vocabulary < 1 || embedding < 1 || hidden < 1 || layers < 1)
            throw new TrainTuneException($"A WordLstm needs positive sizes; got vocabulary {vocabulary}, embedding {embedding}, hidden {hidden}, layers {layers}.");
        encoder = nn.Embedding(vocabulary, embedding);
        lstm = nn.LSTM(embedding, hidden, numLayers: layers, batchFirst: true);
        decoder = nn.Linear(hidden, vocabulary);
        (_hidden, _layers) = (hidden, layers);
        RegisterComponents();
    }

    /// <summary>Zeros: h and c, each [layers, streams, hidden].</summary>
    public Tensor[] InitialState(long streams)
    {
        var like = decoder.parameters().First();
        return [torch.zeros(_layers, streams, _hidden, dtype: like.dtype, device: like.device), torch.zeros(_layers, streams, _hidden, dtype: like.dtype, device: like.device)];
    }

    /// <summary>Logits [streams, T, vocabulary] for a window of token ids [streams, T], and (h, c) after it.</summary>
    public (Tensor Output, Tensor[] State) Forward(Tensor window, Tensor[] state)
    {
        var (output, h, c) = lstm.call(encoder.call(window), (state[0], state[1]));
        return (decoder.call(output), [h, c]);
    }

    public override Tensor forward(Tensor window) => Forward(window, InitialState(window.shape[0])).Output;
}
