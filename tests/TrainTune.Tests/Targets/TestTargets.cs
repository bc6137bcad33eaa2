namespace TrainTune.Tests.Targets;

/// <summary>Training targets of this assembly, for the generated registry's tests.</summary>
public static class TestTargets
{
    [TrainingTarget]
    public static TuningRun SmallRegression() =>
        TuningRun.Of(Training.Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError)
            .On(Training.Tasks.Regression()).Tune(Method.OnePass()).ForSteps(50);

    [TrainingTarget(Name = "Nesterov")]
    internal static TuningRun NesterovRegression() =>
        TuningRun.Of(Training.Tasks.Mlp, new Rules.NesterovSgd(), Loss.MeanSquaredError)
            .On(Training.Tasks.Regression()).Tune(Method.OnePass()).ForSteps(50);
}
