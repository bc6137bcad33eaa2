using TrainTune;

/// <summary>
/// The paper's UCI experiments: an MLP with 50 ReLU units trained full batch for 4000 steps
/// with SGD, momentum and weight decay, tuned by the one-pass method (T = 10, i = 5). The
/// metric is the test MSE in the data's original units (×1000 for Kin8nm, as in the paper).
/// </summary>
public static class Targets
{
    [TrainingTarget]
    public static TuningRun Energy() => Uci("Energy", inputs: 8, metricFactor: 1);

    [TrainingTarget]
    public static TuningRun Kin8nm() => Uci("Kin8nm", inputs: 8, metricFactor: 1000);

    [TrainingTarget]
    public static TuningRun Power() => Uci("Power", inputs: 4, metricFactor: 1);

    static TuningRun Uci(string name, int inputs, double metricFactor)
    {
        var task = UciDataset.Load(name);
        return TuningRun
            .Of(() => new Mlp(inputs, 50, 1), new SgdMomentum(learningRate: 1e-2, momentum: 0.9, weightDecay: 1e-4), Loss.MeanSquaredError)
            .On(task.Data)
            .Tune(Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5))
            .ForSteps(4000)
            .WithMetric(metricFactor == 1 ? "MSE" : $"MSE x {metricFactor:G}", task.ToOriginalUnits(metricFactor));
    }
}
