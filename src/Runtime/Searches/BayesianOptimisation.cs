using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace TrainTune;

/// <summary>
/// Bayesian optimisation over a unit cube: a Gaussian-process surrogate (squared-exponential
/// kernel, standardised observations) and expected improvement maximised over random
/// candidates. The first <c>randomEvaluations</c> points are uniform draws.
/// </summary>
internal sealed class BayesianOptimisation(int dimensions, int seed, int randomEvaluations = 5, double lengthScale = 0.25, double noise = 1e-6, int candidates = 4000)
{
    readonly Random _random = new(seed);
    readonly List<(double[] X, double Y)> _observations = [];

    public IReadOnlyList<(double[] X, double Y)> Observations => _observations;

    /// <summary>The next point to evaluate.</summary>
    public double[] Next()
    {
        if (_observations.Count < randomEvaluations) return Uniform();
        var surrogate = Fit();
        var best = _observations.Min(o => o.Y);
        double[]? chosen = null;
        var chosenImprovement = double.NegativeInfinity;
        for (var c = 0; c < candidates; c++)
        {
            var x = Uniform();
            var (mean, variance) = surrogate.Predict(x);
            var improvement = ExpectedImprovement(mean, Math.Sqrt(variance), best);
            if (improvement > chosenImprovement) (chosen, chosenImprovement) = (x, improvement);
        }
        return chosen!;
    }

    public void Observe(double[] x, double y) => _observations.Add((x, y));

    double[] Uniform() => Enumerable.Range(0, dimensions).Select(_ => _random.NextDouble()).ToArray();

    /// <summary>E[max(best − f, 0)] for f ~ N(mean, sd²): the expected improvement of a minimisation.</summary>
    public static double ExpectedImprovement(double mean, double sd, double best)
    {
        if (sd <= 1e-12) return Math.Max(best - mean, 0);
        var z = (best - mean) / sd;
        return (best - mean) * Normal.CDF(0, 1, z) + sd * Normal.PDF(0, 1, z);
    }

    /// <summary>The Gaussian process fitted to the observations.</summary>
    public GaussianProcess Fit() => new(_observations.Select(o => o.X).ToArray(), _observations.Select(o => o.Y).ToArray(), lengthScale, noise);
}

/// <summary>A Gaussian process with a squared-exponential kernel on standardised observations.</summary>
internal sealed class GaussianProcess
{
    readonly double[][] _x;
    readonly double _lengthScale, _mean, _scale;
    readonly MathNet.Numerics.LinearAlgebra.Factorization.Cholesky<double> _cholesky;
    readonly Vector<double> _alpha;

    public GaussianProcess(double[][] x, double[] y, double lengthScale, double noise)
    {
        if (x.Length == 0) throw new ArgumentException("A Gaussian process needs at least one observation.", nameof(x));
        _x = x;
        _lengthScale = lengthScale;
        _mean = y.Average();
        var variance = y.Sum(v => (v - _mean) * (v - _mean)) / Math.Max(1, y.Length - 1);
        _scale = variance > 0 ? Math.Sqrt(variance) : 1;
        var kernel = Matrix<double>.Build.Dense(x.Length, x.Length, (i, j) => Kernel(x[i], x[j]) + (i == j ? noise : 0));
        _cholesky = kernel.Cholesky();
        _alpha = _cholesky.Solve(Vector<double>.Build.Dense(y.Select(v => (v - _mean) / _scale).ToArray()));
    }

    public double Kernel(double[] a, double[] b)
    {
        var squared = 0.0;
        for (var d = 0; d < a.Length; d++) squared += (a[d] - b[d]) * (a[d] - b[d]);
        return Math.Exp(-squared / (2 * _lengthScale * _lengthScale));
    }

    /// <summary>Posterior mean and variance at <paramref name="point"/>, in the observations' units.</summary>
    public (double Mean, double Variance) Predict(double[] point)
    {
        var k = Vector<double>.Build.Dense(_x.Length, i => Kernel(_x[i], point));
        var mean = k.DotProduct(_alpha);
        var variance = Math.Max(Kernel(point, point) - k.DotProduct(_cholesky.Solve(k)), 0);
        return (_mean + _scale * mean, _scale * _scale * variance);
    }
}
