using TorchSharp;
using TrainTune;
using static TorchSharp.torch;

/// <summary>
/// The paper's Fashion-MNIST experiments: an MLP 784-50-10 with ReLU, batches of 50, 10,000
/// steps of SGD with momentum and weight decay tuned by the one-pass method (T = 10, i = 5),
/// L_V on a validation batch of 50; plain, and with BatchNorm before the ReLU (the paper's
/// batch-normalised configuration). The metric is the test cross-entropy.
/// </summary>
public static class Targets
{
    [TrainingTarget]
    public static TuningRun FashionMnist() => Paper(() => new Mlp(784, 50, 10));

    /// <summary>784-50-10 with BatchNorm1d on the hidden layer, whose linear layer has no bias (BatchNorm's shift replaces it).</summary>
    [TrainingTarget]
    public static TuningRun FashionMnistBatchNorm() => Paper(() => nn.Sequential(
        ("linear0", nn.Linear(784, 50, hasBias: false)),
        ("norm0", nn.BatchNorm1d(50)),
        ("relu0", nn.ReLU()),
        ("linear1", nn.Linear(50, 10))));

    static TuningRun Paper(Func<nn.Module<Tensor, Tensor>> model) => TuningRun
        .Of(model, new SgdMomentum(learningRate: 1e-2, momentum: 0.9, weightDecay: 1e-4), Loss.CrossEntropy)
        .On(TrainTune.FashionMnist.Load())
        .Tune(Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5))
        .ForSteps(10_000)
        .WithBatchSize(50, validationBatchSize: 50)
        .WithMetric("cross-entropy", 1);
}
