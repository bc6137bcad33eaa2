using TrainTune;

/// <summary>
/// The paper's Penn Treebank experiment: a word-level LSTM language model trained by truncated
/// back-propagation through time, its hidden and cell state carried from window to window
/// (detached) and kept separately for training, the tuner's validation loss and the final
/// evaluation; SGD whose learning rate, momentum and weight decay the one-pass method tunes
/// (T = 10, i = 5), the gradients clipped at a global norm of 0.25 inside the weight update.
/// The losses are cross-entropies per token: perplexity is e^loss.
/// </summary>
public static class Targets
{
    const int Vocabulary = 10_000;

    /// <summary>
    /// As the authors ran it (configs/penn_treebank.yaml): embedding 650, two LSTM layers of 650,
    /// 40 streams, 70 tokens per window, 23,910 weight steps (72 epochs), SGD from η = 10^−1.35,
    /// momentum 0.5, weight decay 10^−9. Meant for a GPU.
    /// </summary>
    [TrainingTarget]
    public static TuningRun PennTreebankLstm() =>
        Paper(new WordLstmSize(650, 650, 2), streams: 40, window: 70, steps: 23_910).OnDevice("auto");

    /// <summary>A CPU-sized variant: embedding 200, one LSTM layer of 200, 20 streams of 35-token windows, 1,000 steps (about half an epoch).</summary>
    [TrainingTarget]
    public static TuningRun PennTreebankSmall() => Paper(new WordLstmSize(200, 200, 1), streams: 20, window: 35, steps: 1_000);

    sealed record WordLstmSize(int Embedding, int Hidden, int Layers);

    static TuningRun Paper(WordLstmSize size, int streams, int window, int steps)
    {
        var ptb = PennTreebank.Load();
        // Validation and test as separate stream sets, each with its own carried state.
        var data = TrainingData.FromStreams(
            new SequenceStreams(ptb.Train, streams, window, Vocabulary),
            new SequenceStreams(ptb.Validation, streams, window, Vocabulary),
            new SequenceStreams(ptb.Test, streams, window, Vocabulary));
        return TuningRun
            .Of(() => new WordLstm(Vocabulary, size.Embedding, size.Hidden, size.Layers), new SgdMomentum(learningRate: Math.Pow(10, -1.3534718751907349), momentum: 0.5, weightDecay: 1e-9), Loss.CrossEntropy)
            .On(data)
            .Tune(Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5))
            .ForSteps(steps)
            .WithGradientClipping(maxNorm: 0.25);
    }
}
