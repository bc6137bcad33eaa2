using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hypergradients;

public class DiffThroughOptTests
{
    const double LearningRate = 0.05, Momentum = 0.6, WeightDecay = 0.02;

    static Learner Prepared(TinyMlpProblem problem, int untrackedSteps)
    {
        torch.manual_seed(3);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new SgdMomentum(LearningRate, Momentum, WeightDecay), Loss.MeanSquaredError,
            copyFactory: TinyMlpProblem.Model);
        for (var s = 0; s < untrackedSteps; s++) learner.UntrackedStep(problem.Train);
        return learner;
    }

    [Fact]
    public void Over_one_step_it_gives_the_one_pass_hypergradient_with_one_neumann_term()
    {
        var problem = new TinyMlpProblem();
        var unrolled = Prepared(problem, 3).UnrolledSteps([problem.Train], problem.Validation, [0, 1, 2]);
        var onePass = Prepared(problem, 3).TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [0, 1, 2]);
        for (var j = 0; j < 3; j++)
        {
            var (a, b) = (unrolled.Hypergradient[j].item<double>(), onePass.Hypergradient[j].item<double>());
            Assert.True(TinyMlpProblem.RelativeError(a, b) < 1e-10, $"hyperparameter {j}: unrolled {a}, one-pass {b}");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Over_five_steps_it_matches_central_finite_differences(int hyperparameter)
    {
        var problem = new TinyMlpProblem();
        // Five different batches: row subsets of the training data.
        var batches = Enumerable.Range(0, 5).Select(b => new Split(problem.TrainInputs.narrow(0, b % 4, 5), problem.TrainTargets.narrow(0, b % 4, 5))).ToList();
        var learner = Prepared(problem, 2);
        var result = learner.UnrolledSteps(batches, problem.Validation, [hyperparameter]);
        var actual = result.Hypergradient[0].item<double>();
        // The weights end where five untracked steps end.
        var reference = Prepared(problem, 2);
        foreach (var batch in batches) reference.UntrackedStep(batch);
        for (var k = 0; k < learner.Weights.Count; k++)
            Assert.True((learner.Weights[k] - reference.Weights[k]).abs().max().item<double>() < 1e-12);

        double Objective(double delta)
        {
            var run = Prepared(problem, 2);
            using (torch.no_grad())
                foreach (var raw in run.Hyperparameters.Raw(hyperparameter)) raw.add_(delta);
            run.BeginBlock();
            foreach (var batch in batches) run.UntrackedStep(batch);
            return run.EvaluateLoss(problem.Validation)[0];
        }
        const double h = 1e-6;
        var expected = (Objective(h) - Objective(-h)) / (2 * h);
        Assert.True(Math.Abs(expected) > 1e-8, $"finite difference {expected} too small to check");
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-5, $"unrolled {actual}, finite differences {expected}");
    }

    [Fact]
    public void A_run_with_diff_through_opt_tunes_and_ends_where_its_steps_lead()
    {
        var result = ExperimentProtocol.Apply("DiffThroughOpt", TuningRun.Of(Training.Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError)
            .On(Training.Tasks.Regression()).ForSteps(200)).Run();
        Assert.False(result.Diverged);
        Assert.Equal(20, result.History.Count);
        Assert.All(result.History, r => Assert.True(r.HypergradientNorm > 0));
        Assert.True(result.FinalHyperparameters["learningRate"].Value > 1e-3, "the learning rate should grow from 1e-3 on this task");
        Assert.True(result.History[^1].ValidationLoss < result.History[0].ValidationLoss);
    }
}
