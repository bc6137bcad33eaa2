using TrainTune.Hosting;

namespace TrainTune.Tests.Training;

public class MethodNamesTests
{
    static TuningRun Base() => TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(60);

    [Fact]
    public void The_papers_methods_tune_what_their_names_say()
    {
        var wdLr = MethodNames.Apply("OursWdLr", Base()).Run();
        Assert.Equal(0.5, wdLr.FinalHyperparameters["momentum"].Value, 6);
        Assert.NotEqual(1e-3, wdLr.FinalHyperparameters["learningRate"].Value);
        var wdLrM = MethodNames.Apply("OursWdLrM", Base()).Run();
        Assert.NotEqual(0.5, wdLrM.FinalHyperparameters["momentum"].Value);
        var hdlr = MethodNames.Apply("OursWdHdlrM", Base()).Run();
        Assert.NotNull(hdlr.FinalHyperparameters["learningRate"].PerTensor);
        var random = MethodNames.Apply("Random", Base());
        Assert.Equal(Base().Data!.Train.Rows + Base().Data!.Validation.Rows, random.Data!.Train.Rows);
        Assert.IsType<FixedMethod>(random.Method);
    }

    [Fact]
    public void Random_initial_values_follow_the_papers_ranges_and_the_seed()
    {
        var rule = new SgdMomentum();
        var draws = Enumerable.Range(0, 200).Select(s => MethodNames.RandomInitial(s, rule)).ToList();
        Assert.All(draws, d =>
        {
            Assert.InRange(Math.Log10(d["learningRate"]), -6, -1);
            Assert.InRange(Math.Log10(d["weightDecay"]), -7, -2);
            Assert.InRange(d["momentum"], 0, 1);
        });
        Assert.Equal(MethodNames.RandomInitial(7, rule), MethodNames.RandomInitial(7, rule));
        Assert.NotEqual(MethodNames.RandomInitial(7, rule)["learningRate"], MethodNames.RandomInitial(8, rule)["learningRate"]);
        Assert.Equal(["learningRate"], MethodNames.RandomInitial(1, new Sgd()).Keys);
    }

    [Fact]
    public void A_method_that_cannot_tune_the_rules_hyperparameters_names_the_method_and_the_rule()
    {
        var run = TuningRun.Of(Tasks.Mlp, new Sgd(), Loss.MeanSquaredError).On(Tasks.Regression());
        var error = Assert.Throws<TrainTuneException>(() => MethodNames.Apply("OursWdLrM", run));
        Assert.Contains("Method OursWdLrM tunes learningRate, weightDecay, momentum, but the rule Sgd has no weightDecay or momentum", error.Message);
        Assert.Contains("Unknown method 'Bogus'", Assert.Throws<TrainTuneException>(() => MethodNames.Apply("Bogus", run)).Message);
    }
}
