namespace TrainTune.Build.Experiments;

/// <summary>A statistic with its bootstrap spread: the average over resamples and their standard deviation.</summary>
internal sealed record Bootstrapped(double Value, double Spread);

/// <summary>The paper's statistics over runs: mean and median, each averaged over bootstrap resamples (± their std), and the best.</summary>
internal static class Statistics
{
    public static Bootstrapped BootstrapMean(IReadOnlyList<double> values, int resamples = 1000, int seed = 0) => Bootstrap(values, Mean, resamples, seed);

    public static Bootstrapped BootstrapMedian(IReadOnlyList<double> values, int resamples = 1000, int seed = 0) => Bootstrap(values, Median, resamples, seed);

    public static double Mean(IReadOnlyList<double> values) => values.Average();

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    static Bootstrapped Bootstrap(IReadOnlyList<double> values, Func<IReadOnlyList<double>, double> statistic, int resamples, int seed)
    {
        if (values.Count == 0) return new(double.NaN, double.NaN);
        var random = new Random(seed);
        var estimates = new double[resamples];
        var sample = new double[values.Count];
        for (var r = 0; r < resamples; r++)
        {
            for (var i = 0; i < sample.Length; i++) sample[i] = values[random.Next(values.Count)];
            estimates[r] = statistic(sample);
        }
        var mean = estimates.Average();
        var spread = Math.Sqrt(estimates.Sum(e => (e - mean) * (e - mean)) / (estimates.Length - 1));
        return new(mean, spread);
    }
}
