using TorchSharp;
using TrainTune.Tests.Hypergradients;
using static TorchSharp.torch;

namespace TrainTune.Tests.Rules;

/// <summary>
/// The learning-rate-free rules against their papers' equations, written out here step by step
/// over one flat vector of all weights in plain double arithmetic (the gradient alone comes
/// from autograd on the hand-written MLP of <see cref="TinyMlpProblem"/>). Norms, sums and
/// distances are over all weights together, as the references compute them.
/// </summary>
public class LearningRateFreeRuleTests
{
    const int Steps = 8;

    /// <summary>One optimiser step on the flat weights x with gradient g, in place.</summary>
    abstract class Reference
    {
        public abstract void Step(double[] x, double[] g);

        /// <summary>The point losses are evaluated at (x itself but for Schedule-Free).</summary>
        public virtual double[] Evaluated(double[] x) => x;
    }

    static double Dot(double[] a, double[] b) => a.Select((v, i) => v * b[i]).Sum();
    static double Norm(double[] a) => Math.Sqrt(Dot(a, a));

    /// <summary>
    /// DoG (Ivgi et al. 2023, Algorithm 1): η_t = c · max_i≤t ‖x_i − x_0‖ (r_ε at t = 0) / √(Σ_i≤t ‖g_i‖² + ε),
    /// with the reference's options: init_eta (the first η itself, r̄ from 0), L-DoG (each of the
    /// tensors of <paramref name="sizes"/> on its own) and the polynomial-decay average
    /// x̄_t = (1 − a) x̄_{t−1} + a x_t, a = (1 + γ)/(t + γ), as the point losses are evaluated at.
    /// </summary>
    sealed class DoGReference(double c, double xi, double relative, double epsilon, double? initEta = null, int[]? sizes = null, double? gamma = null) : Reference
    {
        double[]? _x0, _average;
        double[] _rbar = [], _g2 = [];
        int _t;

        public override void Step(double[] x, double[] grad)
        {
            var g = grad.Select((v, i) => v + xi * x[i]).ToArray();
            // The tensors DoG sums over: all weights as one, or each tensor (L-DoG).
            var parts = sizes ?? [x.Length];
            var first = _x0 is null;
            _x0 ??= (double[])x.Clone();
            if (first) (_rbar, _g2) = (new double[parts.Length], new double[parts.Length]);
            var eta = new double[x.Length];
            for (int p = 0, at = 0; p < parts.Length; at += parts[p], p++)
            {
                double[] Part(double[] v) => v.Skip(at).Take(parts[p]).ToArray();
                if (first)
                {
                    _rbar[p] = initEta is null ? relative * (1 + Norm(Part(x))) : 0;
                    _g2[p] = Dot(Part(g), Part(g)) + epsilon;
                }
                else
                {
                    _rbar[p] = Math.Max(_rbar[p], Norm(Part(x).Select((v, i) => v - _x0[at + i]).ToArray()));
                    _g2[p] += Dot(Part(g), Part(g));
                }
                var step = first && initEta is { } initial ? initial : c * _rbar[p] / Math.Sqrt(_g2[p]);
                for (var i = at; i < at + parts[p]; i++) eta[i] = step;
            }
            for (var i = 0; i < x.Length; i++) x[i] -= eta[i] * g[i];
            // The averager's step after the optimiser's: t counts from 1.
            _t++;
            if (gamma is { } decay)
            {
                _average ??= (double[])x.Clone();
                var a = (1 + decay) / (_t + decay);
                for (var i = 0; i < x.Length; i++) _average[i] = (1 - a) * _average[i] + a * x[i];
            }
        }

        public override double[] Evaluated(double[] x) => _average ?? x;
    }

    /// <summary>
    /// D-Adaptation SGD (Defazio and Mishchenko 2023, its SGD variant): λ_t = d_t γ / ‖g₀‖,
    /// s ← s + λ g, z = x₀ − s, x ← μ x + (1 − μ) z, d̂ = 2 Σ λ_i ⟨g_i, s_i⟩ / ‖s‖, d ← max(d, d̂).
    /// The numerator is computed here by another route, from ‖s‖² − Σ λ_i² ‖g_i‖² (the same
    /// number, since ‖s + λ g‖² = ‖s‖² + 2 λ ⟨g, s⟩ + λ² ‖g‖²).
    /// </summary>
    sealed class DAdaptSgdReference(double lambda, double xi, double momentum, double d0) : Reference
    {
        double[]? _x0, _s;
        double _d, _squaredSteps, _g0;

        public override void Step(double[] x, double[] grad)
        {
            if (_x0 is null)
            {
                _x0 = (double[])x.Clone();
                _s = new double[x.Length];
                _d = d0;
                _g0 = Norm(grad);
            }
            var dlr = _d * lambda / _g0;
            var g = grad.Select((v, i) => v + xi * x[i]).ToArray();
            _squaredSteps += dlr * dlr * Dot(g, g);
            for (var i = 0; i < x.Length; i++) _s![i] += dlr * g[i];
            var s2 = Dot(_s!, _s!);
            _d = Math.Max(_d, (s2 - _squaredSteps) / Math.Sqrt(s2));
            var c = 1 - momentum;
            for (var i = 0; i < x.Length; i++) x[i] = (1 - c) * x[i] + c * (_x0[i] - _s![i]);
        }
    }

    /// <summary>D-Adaptation Adam (Defazio and Mishchenko 2023, Algorithm 4, no bias correction, coupled weight decay).</summary>
    sealed class DAdaptAdamReference(double lambda, double beta1, double beta2, double xi, double epsilon, double d0, bool biasCorrection = false, double[]? scale = null) : Reference
    {
        // layer_scale r of each element's param group (1 without groups).
        double R(int i) => scale?[i] ?? 1;

        double[]? _m, _v, _s;
        double _d = d0, _numerator;
        int _k;

        public override void Step(double[] x, double[] grad)
        {
            _m ??= new double[x.Length];
            _v ??= new double[x.Length];
            _s ??= new double[x.Length];
            // use_bias_correction: √(1 − β₂^(k+1)) / (1 − β₁^(k+1)) on dlr.
            var dlr = _d * lambda * (biasCorrection ? Math.Sqrt(1 - Math.Pow(beta2, _k + 1)) / (1 - Math.Pow(beta1, _k + 1)) : 1);
            _k++;
            var sqrtBeta2 = Math.Sqrt(beta2);
            var g = grad.Select((v, i) => v + xi * x[i]).ToArray();
            var accumulated = 0.0;
            for (var i = 0; i < x.Length; i++) accumulated += R(i) * dlr * g[i] * _s[i] / (Math.Sqrt(_v[i]) + epsilon);
            for (var i = 0; i < x.Length; i++)
            {
                _m[i] = beta1 * _m[i] + R(i) * dlr * (1 - beta1) * g[i];
                _v[i] = beta2 * _v[i] + (1 - beta2) * g[i] * g[i];
                _s[i] = sqrtBeta2 * _s[i] + dlr * (1 - sqrtBeta2) * g[i];
            }
            _numerator = sqrtBeta2 * _numerator + (1 - sqrtBeta2) * accumulated;
            _d = Math.Max(_d, _numerator / ((1 - sqrtBeta2) * _s.Select((v, i) => R(i) * Math.Abs(v)).Sum()));
            for (var i = 0; i < x.Length; i++) x[i] -= _m[i] / (Math.Sqrt(_v[i]) + epsilon);
        }
    }

    /// <summary>
    /// Prodigy (Mishchenko and Defazio 2024, Algorithm 3 as its reference runs it: decoupled weight
    /// decay, β₃ = √β₂ unless given), with the reference's options: use_bias_correction (dlr times
    /// √(1 − β₂^k) / (1 − β₁^k) at step k), safeguard_warmup (s accumulates (d/d₀) d g) and beta3.
    /// </summary>
    sealed class ProdigyReference(double lambda, double beta1, double beta2, double dCoefficient, double xi, double epsilon, double d0,
        bool biasCorrection = false, bool safeguardWarmup = false, double? beta3 = null, int sliceP = 1, int[]? sizes = null) : Reference
    {
        // slice_p: d's statistics on every p-th element of each tensor (flattened), the others never enter s or the numerator.
        bool[]? _kept;

        readonly double _d0 = d0;
        double[]? _x0, _m, _v, _s;
        double _d = d0, _dMax = d0, _numerator;
        int _k;

        public override void Step(double[] x, double[] g)
        {
            _x0 ??= (double[])x.Clone();
            _m ??= new double[x.Length];
            _v ??= new double[x.Length];
            _s ??= new double[x.Length];
            _kept ??= (sizes ?? [x.Length]).SelectMany(size => Enumerable.Range(0, size).Select(i => i % sliceP == 0)).ToArray();
            var b3 = beta3 ?? Math.Sqrt(beta2);
            var correction = biasCorrection ? Math.Sqrt(1 - Math.Pow(beta2, _k + 1)) / (1 - Math.Pow(beta1, _k + 1)) : 1;
            var dlr = _d * lambda * correction;
            var numerator = b3 * _numerator;
            for (var i = 0; i < x.Length; i++) if (_kept[i]) numerator += _d / _d0 * dlr * g[i] * (_x0[i] - x[i]);
            for (var i = 0; i < x.Length; i++)
            {
                _m[i] = beta1 * _m[i] + _d * (1 - beta1) * g[i];
                _v[i] = beta2 * _v[i] + _d * _d * (1 - beta2) * g[i] * g[i];
                if (_kept[i]) _s[i] = b3 * _s[i] + _d / _d0 * (safeguardWarmup ? _d : dlr) * g[i];
            }
            _k++;
            _numerator = numerator;
            var dHat = dCoefficient * numerator / _s.Sum(Math.Abs);
            // Unbounded growth: d is the largest estimate so far (and d₀ at first).
            _dMax = Math.Max(_dMax, dHat);
            _d = _dMax;
            for (var i = 0; i < x.Length; i++)
                // With β₁ = 0 the reference keeps no first moment and steps along the new d times g.
                x[i] -= dlr * (xi * x[i] + (beta1 > 0 ? _m[i] : _d * g[i]) / (Math.Sqrt(_v[i]) + _d * epsilon));
        }
    }

    /// <summary>
    /// Schedule-Free (Defazio et al. 2024, Algorithm 1): y_t = (1 − β) z_t + β x_t; z ← z − γ g(y);
    /// x ← (1 − c) x + c z with c = w_t / Σ w, w_t = γ_max²; the SGD form (plain g) or the AdamW
    /// form (g normalised by the bias-corrected second moment). Written with x and z, as the
    /// paper states it, not with the reference's y-only update.
    /// </summary>
    sealed class ScheduleFreeReference(double gamma, double beta, double xi, int warmup, bool adam, double beta2 = 0, double epsilon = 0, double innerMomentum = 0) : Reference
    {
        double[]? _z, _x, _v, _m;
        double _weights, _gammaMax;
        int _k;

        public override void Step(double[] y, double[] grad)
        {
            _z ??= (double[])y.Clone();
            _x ??= (double[])y.Clone();
            _v ??= new double[y.Length];
            _m ??= new double[y.Length];
            var g = new double[y.Length];
            for (var i = 0; i < y.Length; i++)
            {
                _v[i] = beta2 * _v[i] + (1 - beta2) * grad[i] * grad[i];
                // inner_momentum: the bias-corrected average of the gradient, normalised in its place.
                _m[i] = innerMomentum * _m[i] + (1 - innerMomentum) * grad[i];
                var direction = innerMomentum != 0 ? _m[i] / (1 - Math.Pow(innerMomentum, _k + 1)) : grad[i];
                var normalised = adam ? direction / (Math.Sqrt(_v[i] / (1 - Math.Pow(beta2, _k + 1))) + epsilon) : grad[i];
                g[i] = normalised + xi * y[i];
            }
            var scheduled = warmup > 0 ? gamma * Math.Min(1, (_k + 1.0) / warmup) : gamma;
            _gammaMax = Math.Max(_gammaMax, scheduled);
            var weight = _gammaMax * _gammaMax;
            _weights += weight;
            var c = weight / _weights;
            for (var i = 0; i < y.Length; i++)
            {
                _z[i] -= scheduled * g[i];
                _x[i] = (1 - c) * _x[i] + c * _z[i];
                y[i] = (1 - beta) * _z[i] + beta * _x[i];
            }
            _k++;
        }

        public override double[] Evaluated(double[] y) => _x ?? y;
    }

    public static TheoryData<string> Rules() =>
        ["DoG", "DoGInitialStepSize", "LDoG", "DoGAveraged", "DAdaptSgd", "DAdaptSgdMomentum", "DAdaptAdam", "DAdaptAdamOptions", "Prodigy", "ProdigyOptions", "ProdigyWithoutFirstMoment", "ProdigySliced", "ScheduleFreeSgd", "ScheduleFreeAdamW", "ScheduleFreeAdamWInnerMomentum"];

    static (IWeightUpdate Rule, Reference Reference) Case(string name) => name switch
    {
        "DoG" => (new DoG(learningRate: 0.7, weightDecay: 0.01, relativeInitialDistance: 1e-3), new DoGReference(0.7, 0.01, 1e-3, 1e-8)),
        // The reference's init_eta, LDoG (per weight tensor: 0.weight, 0.bias, 2.weight, 2.bias) and polynomial-decay averager.
        "DoGInitialStepSize" => (new DoG(learningRate: 0.7, weightDecay: 0.01, initialStepSize: 0.05), new DoGReference(0.7, 0.01, 1e-3, 1e-8, initEta: 0.05)),
        "LDoG" => (new DoG(learningRate: 0.7, weightDecay: 0.01, relativeInitialDistance: 1e-3, layerWise: true),
            new DoGReference(0.7, 0.01, 1e-3, 1e-8, sizes: [6, 3, 3, 1])),
        "DoGAveraged" => (new DoG(learningRate: 0.7, weightDecay: 0.01, relativeInitialDistance: 1e-3, averaging: 8),
            new DoGReference(0.7, 0.01, 1e-3, 1e-8, gamma: 8)),
        "DAdaptSgd" => (new DAdaptSgd(learningRate: 0.8, weightDecay: 0.01, d0: 1e-2), new DAdaptSgdReference(0.8, 0.01, 0, 1e-2)),
        "DAdaptSgdMomentum" => (new DAdaptSgd(learningRate: 1, weightDecay: 0.02, momentum: 0.6, d0: 1e-2), new DAdaptSgdReference(1, 0.02, 0.6, 1e-2)),
        "DAdaptAdam" => (new DAdaptAdam(learningRate: 0.9, beta1: 0.8, beta2: 0.95, weightDecay: 0.01, d0: 1e-2), new DAdaptAdamReference(0.9, 0.8, 0.95, 0.01, 1e-8, 1e-2)),
        // The reference's use_bias_correction, and β₁ = 0 (no momentum).
        "DAdaptAdamOptions" => (new DAdaptAdam(learningRate: 0.9, beta1: 0, beta2: 0.95, weightDecay: 0.01, d0: 1e-2, biasCorrection: true),
            new DAdaptAdamReference(0.9, 0, 0.95, 0.01, 1e-8, 1e-2, biasCorrection: true)),
        "Prodigy" => (new Prodigy(learningRate: 0.9, beta1: 0.8, beta2: 0.95, dCoefficient: 0.7, weightDecay: 0.05, d0: 1e-2), new ProdigyReference(0.9, 0.8, 0.95, 0.7, 0.05, 1e-8, 1e-2)),
        // The reference's options: bias correction, safeguarded warm-up and a β₃ of its own.
        "ProdigyOptions" => (new Prodigy(learningRate: 0.9, beta1: 0.8, beta2: 0.95, dCoefficient: 0.7, weightDecay: 0.05, d0: 1e-2, biasCorrection: true, safeguardWarmup: true, beta3: 0.9),
            new ProdigyReference(0.9, 0.8, 0.95, 0.7, 0.05, 1e-8, 1e-2, biasCorrection: true, safeguardWarmup: true, beta3: 0.9)),
        // slice_p = 2 over the tensors 0.weight (6), 0.bias (3), 2.weight (3), 2.bias (1).
        "ProdigySliced" => (new Prodigy(learningRate: 0.9, beta1: 0.8, beta2: 0.95, dCoefficient: 0.7, weightDecay: 0.05, d0: 1e-2, sliceP: 2),
            new ProdigyReference(0.9, 0.8, 0.95, 0.7, 0.05, 1e-8, 1e-2, sliceP: 2, sizes: [6, 3, 3, 1])),
        // β₁ = 0: the reference keeps no first moment and steps along d g.
        "ProdigyWithoutFirstMoment" => (new Prodigy(learningRate: 0.9, beta1: 0, beta2: 0.95, dCoefficient: 0.7, weightDecay: 0.05, d0: 1e-2, biasCorrection: true),
            new ProdigyReference(0.9, 0, 0.95, 0.7, 0.05, 1e-8, 1e-2, biasCorrection: true)),
        "ScheduleFreeSgd" => (new ScheduleFreeSgd(learningRate: 0.3, momentum: 0.8, weightDecay: 0.01, warmupSteps: 3), new ScheduleFreeReference(0.3, 0.8, 0.01, 3, adam: false)),
        "ScheduleFreeAdamW" => (new ScheduleFreeAdamW(learningRate: 0.05, beta1: 0.85, beta2: 0.95, weightDecay: 0.02, warmupSteps: 3),
            new ScheduleFreeReference(0.05, 0.85, 0.02, 3, adam: true, beta2: 0.95, epsilon: 1e-8)),
        "ScheduleFreeAdamWInnerMomentum" => (new ScheduleFreeAdamW(learningRate: 0.05, beta1: 0.85, beta2: 0.95, weightDecay: 0.02, warmupSteps: 3, innerMomentum: 0.7),
            new ScheduleFreeReference(0.05, 0.85, 0.02, 3, adam: true, beta2: 0.95, epsilon: 1e-8, innerMomentum: 0.7)),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void The_first_steps_match_the_papers_equations(string name)
    {
        var (rule, reference) = Case(name);
        MatchesStepByStep(name, rule, reference);
    }

    /// <summary>
    /// D-Adaptation Adam's layer_scale, a setting of each param group: r = 0.5 on the first layer
    /// (0.weight, 0.bias: elements 0–8), 1 on the second, through parameter groups.
    /// </summary>
    [Fact]
    public void D_adaptation_adams_layer_scale_per_group_matches_the_papers_equations()
    {
        var scale = Enumerable.Range(0, TinyMlpProblem.WeightCount).Select(i => i < 9 ? 0.5 : 1).ToArray();
        MatchesStepByStep("DAdaptAdamLayerScale", new DAdaptAdam(learningRate: 0.9, beta1: 0.8, beta2: 0.95, weightDecay: 0.01, d0: 1e-2),
            new DAdaptAdamReference(0.9, 0.8, 0.95, 0.01, 1e-8, 1e-2, scale: scale),
            [ParameterGroup.Matching("first", "0.*").Holding(DAdaptAdam.LayerScale, 0.5), ParameterGroup.Rest("second")]);
    }

    static void MatchesStepByStep(string name, IWeightUpdate rule, Reference reference, IReadOnlyList<ParameterGroup>? groups = null)
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(5);
        using var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), rule, Loss.MeanSquaredError, groups: groups);
        var x = TinyMlpProblem.Flatten(learner.Weights).data<double>().ToArray();
        var start = (double[])x.Clone();
        for (var step = 0; step < Steps; step++)
        {
            var w = torch.tensor(x, dtype: ScalarType.Float64).requires_grad_(true);
            var gradient = torch.autograd.grad([problem.TrainLoss(w)], [w])[0].data<double>().ToArray();
            reference.Step(x, gradient);
            learner.UntrackedStep(problem.Train);

            var actual = TinyMlpProblem.Flatten(learner.Weights).data<double>().ToArray();
            for (var i = 0; i < x.Length; i++)
                Assert.True(Math.Abs(actual[i] - x[i]) <= 1e-10, $"{name}, step {step + 1}, weight {i}: runtime {actual[i]}, paper {x[i]}");
            using (learner.AtEvaluationPoint())
            {
                var evaluated = TinyMlpProblem.Flatten(learner.Weights).data<double>().ToArray();
                var expected = reference.Evaluated(x);
                for (var i = 0; i < x.Length; i++)
                    Assert.True(Math.Abs(evaluated[i] - expected[i]) <= 1e-10, $"{name}, step {step + 1}, evaluated weight {i}: runtime {evaluated[i]}, paper {expected[i]}");
            }
        }
        var moved = x.Select((v, i) => Math.Abs(v - start[i])).Max();
        // Equal but unmoved weights would make the comparison empty.
        Assert.True(moved > 1e-4, $"{name}: the weights moved only {moved} in {Steps} steps");
    }
}
