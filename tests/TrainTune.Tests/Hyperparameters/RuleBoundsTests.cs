using TrainTune.Tests.Training;

namespace TrainTune.Tests.Hyperparameters;

/// <summary>A rule's bounds set for one instance: SGD's learning rate above its declared Max of 1, as LSTM practice starts.</summary>
public class RuleBoundsTests
{
    static TuningRun Run(IWeightUpdate rule) =>
        TuningRun.Of(Tasks.Mlp, rule, Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20).WithSeed(1);

    [Fact]
    public void A_learning_rate_above_the_declared_bound_is_refused_saying_how_to_widen_it()
    {
        var error = Assert.Throws<TrainTuneException>(() => Run(new SgdMomentum(learningRate: 20, momentum: 0.5)).Run());
        Assert.Contains("initial value 20 lies outside its bounds [1E-10, 1]", error.Message);
        Assert.Contains("rule.SetBounds(\"learningRate\", min, max)", error.Message);
    }

    [Fact]
    public void Widened_bounds_hold_for_that_instance_only_and_the_tuner_moves_within_them()
    {
        var wide = new Sgd(learningRate: 2e-3);
        wide.SetBounds("learningRate", 1e-3, 3e-3);
        var result = Run(wide).Tune(Method.OnePass(hyperLearningRate: 0.5)).Run();
        var learningRate = result.FinalHyperparameters["learningRate"].Value;
        Assert.InRange(learningRate, 1e-3 * (1 - 1e-6), 3e-3 * (1 + 1e-6));
        // The step sizes the hyper steps took would have left these bounds (κ = 0.5 on log10 η): the clamps held.
        var unbounded = Run(new Sgd(learningRate: 2e-3)).Tune(Method.OnePass(hyperLearningRate: 0.5)).Run().FinalHyperparameters["learningRate"].Value;
        Assert.True(unbounded is < 1e-3 or > 3e-3, $"the unbounded run ended at {unbounded}, inside the bounds: the test does not exercise them");

        var above = new SgdMomentum(learningRate: 20, momentum: 0.5);
        above.SetBounds("learningRate", 1e-10, null);
        Assert.Equal(20, Run(above).Run().FinalHyperparameters["learningRate"].Value, 1e-9);
        Assert.Throws<TrainTuneException>(() => Run(new SgdMomentum(learningRate: 20, momentum: 0.5)).Run());
    }

    [Fact]
    public void The_learning_rate_free_rules_take_bounds_and_transforms_per_instance_too()
    {
        var narrow = new Prodigy();
        narrow.SetBounds(Prodigy.LearningRate, 0.5, 1.5);
        var result = Run(narrow).Tune(Method.OnePass(tune: [Prodigy.LearningRate], hyperLearningRate: 0.5)).Run();
        Assert.All(result.History, b => Assert.InRange(b.Hyperparameters[Prodigy.LearningRate].Value, 0.5 * (1 - 1e-6), 1.5 * (1 + 1e-6)));
        var unbounded = Run(new Prodigy()).Tune(Method.OnePass(tune: [Prodigy.LearningRate], hyperLearningRate: 0.5)).Run();
        Assert.Contains(unbounded.History, b => b.Hyperparameters[Prodigy.LearningRate].Value is < 0.5 or > 1.5);

        var outside = new DoG();
        outside.SetBounds(DoG.LearningRate, 2, 3);
        Assert.Contains("rule.SetBounds(\"learningRate\", min, max)", Assert.Throws<TrainTuneException>(() => Run(outside).Run()).Message);
        Assert.Contains("ScheduleFreeAdamW has no hyperparameter named 'lr'; it has: learningRate, beta1, beta2, weightDecay",
            Assert.Throws<TrainTuneException>(() => new ScheduleFreeAdamW().SetTransform("lr", Transform.Identity)).Message);
    }
}
