using System.Text.Json;
using TrainTune.Hosting;

namespace TrainTune.Tests.Hyperparameters;

public class BayesianOptimisationTests
{
    [Fact]
    public void Posterior_matches_the_closed_form_for_two_observations()
    {
        double[][] x = [[0.2], [0.7]];
        double[] y = [1.0, 3.0];
        const double ell = 0.25, noise = 1e-6;
        var gp = new GaussianProcess(x, y, ell, noise);

        // By hand: standardise y, K = [[1+n, k], [k, 1+n]], inverse 1/det [[1+n, -k], [-k, 1+n]].
        double K(double a, double b) => Math.Exp(-(a - b) * (a - b) / (2 * ell * ell));
        var mean = 2.0;
        var scale = Math.Sqrt(2.0); // sample std of {1, 3}
        var z = new[] { (1.0 - mean) / scale, (3.0 - mean) / scale };
        var k12 = K(0.2, 0.7);
        var det = (1 + noise) * (1 + noise) - k12 * k12;
        double[,] inverse = { { (1 + noise) / det, -k12 / det }, { -k12 / det, (1 + noise) / det } };
        var point = 0.45;
        var ks = new[] { K(0.2, point), K(0.7, point) };
        var expectedMean = mean + scale * (ks[0] * (inverse[0, 0] * z[0] + inverse[0, 1] * z[1]) + ks[1] * (inverse[1, 0] * z[0] + inverse[1, 1] * z[1]));
        var quadratic = ks[0] * (inverse[0, 0] * ks[0] + inverse[0, 1] * ks[1]) + ks[1] * (inverse[1, 0] * ks[0] + inverse[1, 1] * ks[1]);
        var expectedVariance = scale * scale * (1 - quadratic);

        var (actualMean, actualVariance) = gp.Predict([point]);
        Assert.Equal(expectedMean, actualMean, 10);
        Assert.Equal(expectedVariance, actualVariance, 10);
        Assert.Equal(1.0, gp.Predict([0.2]).Mean, 4); // interpolates its data
    }

    [Theory]
    [InlineData(0.3, 0.5, 0.0)]
    [InlineData(-0.2, 0.1, 0.0)]
    [InlineData(1.0, 2.0, 0.5)]
    public void Expected_improvement_matches_numerical_integration(double mean, double sd, double best)
    {
        // E[max(best − f, 0)], f ~ N(mean, sd²), by the trapezoid rule over ±12 sd.
        const int n = 200_000;
        double sum = 0, step = 24 * sd / n;
        for (var i = 0; i <= n; i++)
        {
            var f = mean - 12 * sd + i * step;
            var density = Math.Exp(-(f - mean) * (f - mean) / (2 * sd * sd)) / (sd * Math.Sqrt(2 * Math.PI));
            sum += (i == 0 || i == n ? 0.5 : 1) * Math.Max(best - f, 0) * density;
        }
        Assert.Equal(sum * step, BayesianOptimisation.ExpectedImprovement(mean, sd, best), 8);
    }

    [Fact]
    public void Guided_evaluations_find_the_minimum_of_a_smooth_function_better_than_the_random_ones()
    {
        static double F(double[] x) => (x[0] - 0.3) * (x[0] - 0.3) + 2 * (x[1] - 0.8) * (x[1] - 0.8);
        var optimiser = new BayesianOptimisation(2, seed: 5);
        for (var e = 0; e < 25; e++)
        {
            var x = optimiser.Next();
            optimiser.Observe(x, F(x));
        }
        var random = optimiser.Observations.Take(5).Min(o => o.Y);
        var best = optimiser.Observations.Min(o => o.Y);
        Assert.True(best < random, $"guided best {best}, random best {random}");
        Assert.True(best < 0.01, $"best {best}");
    }

    [Fact]
    public void BayesOpt_keeps_the_best_of_its_whole_training_runs()
    {
        var folder = Directory.CreateTempSubdirectory("traintune-bayesopt-").FullName;
        try
        {
            var run = Targets.TestTargets.SmallRegression().ForSteps(20);
            var outcome = Search.BayesOpt(run, folder, randomEvaluations: 3, guidedEvaluations: 3);
            Assert.Equal(6, outcome.Evaluations.Count);
            var finished = outcome.Evaluations.Where(r => !r.Diverged).ToList();
            Assert.Equal(finished.Min(r => r.ValidationLoss), outcome.Best.ValidationLoss);
            Assert.Equal(outcome.Evaluations.Count(r => r.Diverged), outcome.Diverged);
            // Only an evaluation that beat every earlier one could be counted, and only it evaluated its train and test losses.
            for (var e = 0; e < outcome.Evaluations.Count; e++)
            {
                var result = outcome.Evaluations[e];
                var beatEveryEarlier = !result.Diverged && outcome.Evaluations.Take(e).All(r => r.Diverged || result.ValidationLoss < r.ValidationLoss);
                Assert.Equal(beatEveryEarlier, double.IsFinite(result.TrainLoss));
                Assert.Equal(beatEveryEarlier, result.TestLoss is not null);
            }
            Assert.True(double.IsFinite(outcome.Best.TrainLoss) && outcome.Best.TestLoss is not null);
            Assert.Contains(outcome.Evaluations.Skip(1), r => !double.IsFinite(r.TrainLoss));
            var table = File.ReadAllLines(Path.Combine(folder, "bayesopt.csv"));
            Assert.Equal("evaluation,learningRate,weightDecay,momentum,validation_loss,diverged,objective", table[0]);
            Assert.Equal(7, table.Length);
            foreach (var row in table.Skip(1).Select(l => l.Split(',')))
            {
                Assert.InRange(Math.Log10(double.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture)), -6, -1);
                Assert.InRange(Math.Log10(double.Parse(row[2], System.Globalization.CultureInfo.InvariantCulture)), -7, -2);
            }
            Assert.True(File.Exists(Path.Combine(folder, "record.jsonl")));
            Assert.Single(Directory.GetFiles(folder, "record*.jsonl"));
            var last = JsonDocument.Parse(File.ReadLines(Path.Combine(folder, "record.jsonl")).Last()).RootElement;
            Assert.Equal(outcome.Best.ValidationLoss, last.GetProperty("validation_loss").GetDouble());
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
