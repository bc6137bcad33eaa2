extern alias build;
using build::TrainTune.Build.Experiments;

namespace TrainTune.Tests.Build;

public class ExperimentResultsTests
{
    static ExperimentRun Run(string method, long seed, double? test, bool diverged = false, string? failure = null) =>
        new(method, seed, new Dictionary<string, double> { ["learningRate"] = 1e-3 * seed }, new Dictionary<string, double> { ["learningRate"] = 2e-3 * seed },
            "MSE", test, test, test, diverged, 1.5, failure);

    [Fact]
    public void Bootstrap_statistics_agree_with_the_sample_and_its_standard_error()
    {
        var values = Enumerable.Range(1, 40).Select(i => Math.Sqrt(i)).ToList();
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
        var standardError = sd / Math.Sqrt(values.Count);
        var bootstrapped = Statistics.BootstrapMean(values);
        // The average of 1000 resample means lies within a few standard errors / sqrt(1000) of the sample mean.
        Assert.InRange(bootstrapped.Value, mean - 5 * standardError / Math.Sqrt(1000), mean + 5 * standardError / Math.Sqrt(1000));
        Assert.InRange(bootstrapped.Spread, 0.85 * standardError, 1.15 * standardError);
        Assert.Equal(new Bootstrapped(3, 0), Statistics.BootstrapMedian([3.0, 3.0, 3.0]));
        Assert.Equal(2.5, Statistics.Median([4.0, 1.0, 2.0, 3.0]));
    }

    [Fact]
    public void The_best_run_of_a_metric_where_higher_is_better_is_the_largest()
    {
        IReadOnlyList<ExperimentRun> runs = [Run("OursWdLrM", 1, 0.8) with { MetricName = "accuracy", HigherIsBetter = true }, Run("OursWdLrM", 2, 0.9) with { MetricName = "accuracy", HigherIsBetter = true }];
        var markdown = ExperimentResults.Markdown("Cnn", runs, "dotnet build x -t:TrainTune", TimeSpan.FromMinutes(1));
        Assert.Contains("# Cnn: final test accuracy", markdown);
        Assert.Contains("best is the largest", markdown);
        Assert.EndsWith("| 0.9 |", markdown.Split('\n').Single(l => l.StartsWith("| OursWdLrM |")));
    }

    [Fact]
    public void Results_count_diverged_and_failed_runs_and_leave_them_out_of_the_statistics()
    {
        IReadOnlyList<ExperimentRun> runs = [Run("OursWdLrM", 1, 1.0), Run("OursWdLrM", 2, 3.0), Run("OursWdLrM", 3, null, diverged: true), Run("Random", 1, 10.0), Run("Random", 2, null, failure: "exit code 134: boom, again")];
        var markdown = ExperimentResults.Markdown("Energy", runs, "dotnet build x -t:TrainTune", TimeSpan.FromMinutes(2));
        Assert.Contains("# Energy: final test MSE", markdown);
        Assert.Contains("`dotnet build x -t:TrainTune`, 2.0 min wall time.", markdown);
        var row = markdown.Split('\n').Single(l => l.StartsWith("| OursWdLrM |")).Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal(["OursWdLrM", "3", "1", "0"], row[1..5]);
        foreach (var cell in row[5..7]) Assert.InRange(double.Parse(cell.Split(" ± ")[0], System.Globalization.CultureInfo.InvariantCulture), 1.9, 2.1);
        Assert.Equal("1", row[7]);
        Assert.Contains("| Random | 2 | 0 | 1 | 10 ± 0 | 10 ± 0 | 10 |", markdown);

        var csv = ExperimentResults.Csv(runs).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("method,seed,initial_learningRate,final_learningRate,train_mse,validation_mse,test_mse,diverged,seconds,failure", csv[0]);
        Assert.Equal("OursWdLrM,1,0.001,0.002,1,1,1,false,1.5,", csv[1]);
        Assert.Equal("OursWdLrM,3,0.003,0.006,,,,true,1.5,", csv[3]);
        Assert.Equal("Random,2,0.002,0.004,,,,false,1.5,\"exit code 134: boom, again\"", csv[5]);
    }
}
