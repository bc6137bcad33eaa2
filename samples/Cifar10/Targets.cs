using TrainTune;
using static TorchSharp.torch;
using static TorchSharp.torchvision;

/// <summary>
/// The paper's CIFAR-10 experiment: ResNet-18 (torchvision's, 10 classes, as the authors' code
/// builds it), no augmentation, batches of 100, 72 epochs of the 45,000 training images (32,400
/// weight steps) of SGD with momentum and weight decay tuned by the one-pass method (T = 10,
/// i = 5), L_V on a validation batch of 100; test cross-entropy and accuracy. Meant for a GPU.
/// Cifar10Small is the same protocol at a size a CPU trains in minutes.
/// </summary>
public static class Targets
{
    [TrainingTarget]
    public static TuningRun Cifar10ResNet18() => Paper(() => models.resnet18(num_classes: Cifar10.Classes), steps: 32_400)
        .OnDevice("auto");

    /// <summary>ResNet-8 (<see cref="CifarResNet"/>: one block per stage at widths 16/32/64), 600 steps: about 1.3 epochs.</summary>
    [TrainingTarget]
    public static TuningRun Cifar10Small() => Paper(() => new CifarResNet(width: 16, blocksPerStage: 1), steps: 600);

    static TuningRun Paper(Func<nn.Module<Tensor, Tensor>> model, int steps) => TuningRun
        .Of(model, new SgdMomentum(learningRate: 1e-2, momentum: 0.9, weightDecay: 1e-4), Loss.CrossEntropy)
        .On(Cifar10.Load())
        .Tune(Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5))
        .ForSteps(steps)
        .WithBatchSize(100, validationBatchSize: 100)
        .WithMetric(Metric.Accuracy);
}
