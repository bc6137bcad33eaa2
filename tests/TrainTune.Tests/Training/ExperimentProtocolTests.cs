using TrainTune.Hosting;

namespace TrainTune.Tests.Training;

public class ExperimentProtocolTests
{
    static TuningRun Base() => TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(60);

    [Fact]
    public void The_papers_methods_tune_what_their_names_say()
    {
        var wdLr = ExperimentProtocol.Apply("OursWdLr", Base()).Run();
        Assert.Equal(0.5, wdLr.FinalHyperparameters["momentum"].Value, 6);
        Assert.NotEqual(1e-3, wdLr.FinalHyperparameters["learningRate"].Value);
        var wdLrM = ExperimentProtocol.Apply("OursWdLrM", Base()).Run();
        Assert.NotEqual(0.5, wdLrM.FinalHyperparameters["momentum"].Value);
        var hdlr = ExperimentProtocol.Apply("OursWdHdlrM", Base()).Run();
        Assert.NotNull(hdlr.FinalHyperparameters["learningRate"].PerTensor);
        var random = ExperimentProtocol.Apply("Random", Base());
        Assert.Equal(Base().Data!.Train.Rows + Base().Data!.Validation.Rows, random.Data!.Train.Rows);
        Assert.IsType<FixedMethod>(random.Method);
    }

    [Fact]
    public void Random_initial_values_follow_the_papers_ranges_and_the_seed()
    {
        var rule = new SgdMomentum();
        var draws = Enumerable.Range(0, 200).Select(s => ExperimentProtocol.RandomInitial(s, rule)).ToList();
        Assert.All(draws, d =>
        {
            Assert.InRange(Math.Log10(d["learningRate"]), -6, -1);
            Assert.InRange(Math.Log10(d["weightDecay"]), -7, -2);
            Assert.InRange(d["momentum"], 0, 1);
        });
        Assert.Equal(ExperimentProtocol.RandomInitial(7, rule), ExperimentProtocol.RandomInitial(7, rule));
        Assert.NotEqual(ExperimentProtocol.RandomInitial(7, rule)["learningRate"], ExperimentProtocol.RandomInitial(8, rule)["learningRate"]);
        Assert.Equal(["learningRate"], ExperimentProtocol.RandomInitial(1, new Sgd()).Keys);
    }

    [Fact]
    public void Lorraine_changes_only_weight_decay()
    {
        var result = ExperimentProtocol.Apply("Lorraine", Base()).Run();
        Assert.Equal(1e-3, result.FinalHyperparameters["learningRate"].Value, 9);
        Assert.Equal(0.5, result.FinalHyperparameters["momentum"].Value, 6);
        Assert.NotEqual(1e-4, result.FinalHyperparameters["weightDecay"].Value, 9);
    }

    [Fact]
    public void The_learning_rate_multiplier_multiplies_after_every_block_and_clips_to_the_bounds()
    {
        var shrinking = Base().Tune(Method.LearningRateMultiplier(0.99)).ForSteps(50).Run();
        Assert.Equal(1e-3 * Math.Pow(0.99, 5), shrinking.FinalHyperparameters["learningRate"].Value, 1e-3 * 1e-5);
        Assert.Equal(0.5, shrinking.FinalHyperparameters["momentum"].Value, 6);
        var lrs = shrinking.History.Select(h => h.Hyperparameters["learningRate"].Value).ToList();
        for (var b = 0; b < lrs.Count; b++) Assert.Equal(1e-3 * Math.Pow(0.99, b + 1), lrs[b], 1e-3 * 1e-5);

        // At the bottom of the range [1e-10, 1]: 1.008e-10 × 0.995 stays above, × 0.995² falls below and is clipped.
        var clipped = TuningRun.Of(Tasks.Mlp, new Sgd(1.008e-10), Loss.MeanSquaredError).On(Tasks.Regression())
            .Tune(Method.LearningRateMultiplier(0.995)).ForSteps(30).Run();
        var values = clipped.History.Select(h => h.Hyperparameters["learningRate"].Value).ToList();
        Assert.Equal(1.008e-10 * 0.995, values[0], 1e-14);
        Assert.Equal(1e-10, values[1], 1e-14);
        Assert.Equal(1e-10, values[2], 1e-14);
    }

    [Fact]
    public void Random_lr_multiplier_draws_its_factor_once_per_seed_and_trains_on_training_and_validation()
    {
        var factors = Enumerable.Range(0, 500).Select(s => ExperimentProtocol.LearningRateFactor(s)).ToList();
        Assert.All(factors, f => Assert.InRange(f, 0.995, 1.001));
        Assert.True(factors.Max() - factors.Min() > 0.005, "the factors should spread over the range");
        Assert.Equal(ExperimentProtocol.LearningRateFactor(3), ExperimentProtocol.LearningRateFactor(3));
        var run = ExperimentProtocol.Apply("RandomLrMultiplier", Base().WithSeed(3));
        var method = Assert.IsType<LearningRateMultiplierMethod>(run.Method);
        Assert.Equal(ExperimentProtocol.LearningRateFactor(3), method.Factor);
        Assert.Equal(600, run.Data!.Train.Rows);
    }

    [Fact]
    public void A_method_that_cannot_tune_the_rules_hyperparameters_names_the_method_and_the_rule()
    {
        var run = TuningRun.Of(Tasks.Mlp, new Sgd(), Loss.MeanSquaredError).On(Tasks.Regression());
        var error = Assert.Throws<TrainTuneException>(() => ExperimentProtocol.Apply("OursWdLrM", run));
        Assert.Contains("Method OursWdLrM tunes learningRate, weightDecay, momentum, but the rule Sgd has no weightDecay or momentum", error.Message);
        Assert.Contains("Unknown method 'Bogus'", Assert.Throws<TrainTuneException>(() => ExperimentProtocol.Apply("Bogus", run)).Message);
        Assert.Contains("Method Lorraine tunes weightDecay, but the rule Sgd has no weightDecay", Assert.Throws<TrainTuneException>(() => ExperimentProtocol.Apply("Lorraine", run)).Message);
        var adam = TuningRun.Of(Tasks.Mlp, new Adam(), Loss.MeanSquaredError).On(Tasks.Regression()).Tune(new LearningRateMultiplierMethod(0.99, 5, LearningRate: "eta"));
        Assert.Contains("LearningRateMultiplier needs a hyperparameter named 'eta', but the rule Adam has learningRate, beta1, beta2, epsilon, weightDecay", Assert.Throws<TrainTuneException>(() => adam.Run()).Message);
    }

    [Fact]
    public void Every_name_runs_from_CSharp_and_the_searches_are_not_a_change_to_one_run()
    {
        Assert.Equal(ExperimentProtocol.Apply("Lorraine", Base()).Run().ValidationLoss, ExperimentProtocol.Run("lorraine", Base()).ValidationLoss);
        var error = Assert.Throws<TrainTuneException>(() => ExperimentProtocol.Apply("bayesopt", Base()));
        Assert.Contains("BayesOpt is a search over several whole runs, not a change to one run; run it with ExperimentProtocol.Run(\"BayesOpt\", run)", error.Message);
        Assert.Contains("Unknown method 'Bogus'", Assert.Throws<TrainTuneException>(() => ExperimentProtocol.Run("Bogus", Base())).Message);
    }

    [Fact]
    public void Random3Batched_from_CSharp_keeps_the_best_of_the_run_and_two_random_draws()
    {
        var folder = Directory.CreateTempSubdirectory("traintune-named-").FullName;
        try
        {
            var record = Path.Combine(folder, "mine.jsonl");
            var progress = new List<RunProgress>();
            var result = ExperimentProtocol.Run("Random3Batched", Base().WithSeed(5).RecordTo(record).OnProgress(progress.Add));

            // The three runs made by hand: the run itself, then two random draws with their own seeds.
            var runs = new[] { Base().WithSeed(5).Run() }.Concat(new[] { 1, 2 }.Select(c =>
            {
                var seed = 5 + c * 1_000_003L;
                return Base().WithSeed(seed).StartingFrom(ExperimentProtocol.RandomInitial(seed, new SgdMomentum())).Run();
            })).ToList();
            Assert.Equal(3, runs.Select(r => r.ValidationLoss).Distinct().Count());
            var best = runs.Where(r => !r.Diverged).MinBy(r => r.ValidationLoss)!;
            Assert.Equal(best.ValidationLoss, result.ValidationLoss);
            Assert.Equal(best.InitialHyperparameters["learningRate"].Value, result.InitialHyperparameters["learningRate"].Value);
            // The candidates do not share the run's record file; they train together as one
            // population, so progress counts the steps they take together.
            Assert.False(File.Exists(record));
            Assert.Equal(60, progress[^1].Step);
            Assert.All(progress, p => Assert.Equal(60, p.TotalSteps));
            Assert.Equal(progress.Select(p => p.Step).Order(), progress.Select(p => p.Step));
            Assert.Equal(progress.Select(p => p.Elapsed).Order(), progress.Select(p => p.Elapsed));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
