using TrainTune;

/// <summary>
/// The paper's Fashion-MNIST experiment: an MLP 784-50-10 with ReLU, batches of 50, 10,000
/// steps of SGD with momentum and weight decay tuned by the one-pass method (T = 10, i = 5),
/// L_V on a validation batch of 50. The metric is the test cross-entropy.
/// </summary>
public static class Targets
{
    [TrainingTarget]
    public static TuningRun FashionMnist() => TuningRun
        .Of(() => new Mlp(784, 50, 10), new SgdMomentum(learningRate: 1e-2, momentum: 0.9, weightDecay: 1e-4), Loss.CrossEntropy)
        .On(TrainTune.FashionMnist.Load())
        .Tune(Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5))
        .ForSteps(10_000)
        .WithBatchSize(50, validationBatchSize: 50)
        .WithMetric("cross-entropy", 1);
}
