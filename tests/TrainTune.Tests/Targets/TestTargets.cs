namespace TrainTune.Tests.Targets;

/// <summary>Training targets of this assembly, for the generated registry's tests.</summary>
public static class TestTargets
{
    [TrainingTarget]
    public static TuningRun SmallRegression() =>
        TuningRun.Of(Training.Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError)
            .On(Training.Tasks.Regression()).Tune(Method.OnePass()).ForSteps(50);

    /// <summary>A model that does not stack into a population (BatchNorm): its members run one after another.</summary>
    [TrainingTarget]
    public static TuningRun BatchNormRegression() =>
        TuningRun.Of(() => TorchSharp.torch.nn.Sequential(("hidden", TorchSharp.torch.nn.Linear(8, 16)), ("norm", TorchSharp.torch.nn.BatchNorm1d(16)), ("relu", TorchSharp.torch.nn.ReLU()), ("output", TorchSharp.torch.nn.Linear(16, 1))),
                new SgdMomentum(1e-2, 0.5, 1e-4), Loss.MeanSquaredError)
            .On(Training.Tasks.Regression()).WithBatchSize(50, 50).ForSteps(20);

    [TrainingTarget(Name = "Nesterov")]
    internal static TuningRun NesterovRegression() =>
        TuningRun.Of(Training.Tasks.Mlp, new Rules.NesterovSgd(), Loss.MeanSquaredError)
            .On(Training.Tasks.Regression()).Tune(Method.OnePass()).ForSteps(50);
}
