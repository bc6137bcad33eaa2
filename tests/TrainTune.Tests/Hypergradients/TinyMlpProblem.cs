using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hypergradients;

/// <summary>
/// A 2-3-1 tanh MLP on a few rows, in float64, with its own explicit implementation of the
/// forward pass and of SGD with momentum and weight decay over one flat weight vector. The
/// tests compare the runtime against this independent computation.
/// </summary>
internal sealed class TinyMlpProblem
{
    public const int InputSize = 2, Hidden = 3;
    public static readonly int WeightCount = Hidden * InputSize + Hidden + Hidden + 1;

    public TinyMlpProblem(long seed = 7)
    {
        var generator = new torch.Generator((ulong)seed);
        TrainInputs = torch.randn(8, InputSize, dtype: ScalarType.Float64, generator: generator);
        TrainTargets = torch.randn(8, 1, dtype: ScalarType.Float64, generator: generator);
        ValidationInputs = torch.randn(6, InputSize, dtype: ScalarType.Float64, generator: generator);
        ValidationTargets = torch.randn(6, 1, dtype: ScalarType.Float64, generator: generator);
    }

    public Tensor TrainInputs { get; }
    public Tensor TrainTargets { get; }
    public Tensor ValidationInputs { get; }
    public Tensor ValidationTargets { get; }

    public Split Train => new(TrainInputs, TrainTargets);
    public Split Validation => new(ValidationInputs, ValidationTargets);

    /// <summary>The library model whose parameters, in order, are the flat vector's pieces.</summary>
    public static nn.Module<Tensor, Tensor> Model()
    {
        var model = nn.Sequential(("0", nn.Linear(InputSize, Hidden)), ("1", nn.Tanh()), ("2", nn.Linear(Hidden, 1)));
        return model.to(ScalarType.Float64);
    }

    public static Tensor Flatten(IEnumerable<Tensor> weights) => torch.cat(weights.Select(w => w.detach().flatten()).ToArray());

    /// <summary>The MLP written out by hand over the flat weight vector.</summary>
    public static Tensor Forward(Tensor w, Tensor x)
    {
        var w1 = w.narrow(0, 0, Hidden * InputSize).view(Hidden, InputSize);
        var b1 = w.narrow(0, Hidden * InputSize, Hidden);
        var w2 = w.narrow(0, Hidden * InputSize + Hidden, Hidden).view(1, Hidden);
        var b2 = w.narrow(0, Hidden * InputSize + 2 * Hidden, 1);
        return (x.matmul(w1.t()) + b1).tanh().matmul(w2.t()) + b2;
    }

    public static Tensor Mse(Tensor prediction, Tensor target) => (prediction - target).square().mean();

    /// <summary>The library's MSE of <paramref name="model"/> on <paramref name="split"/>: the loss a loop of one's own hands the tuner.</summary>
    public static Tensor Mse(nn.Module<Tensor, Tensor> model, Split split) => Loss.MeanSquaredError.Compute(model.call(split.Inputs), split.Targets);

    /// <summary>
    /// L_V after one untracked step of <paramref name="learner"/> with the raw values of hyperparameter
    /// <paramref name="h"/> (only its raw tensor <paramref name="slot"/> when given) moved by
    /// <paramref name="delta"/>: the objective the hypergradient tests difference.
    /// </summary>
    public double ValidationLossAfterStep(Learner learner, int h, double delta, int? slot = null)
    {
        using (torch.no_grad())
            foreach (var (raw, r) in learner.Hyperparameters.Raw(h).Select((raw, r) => (raw, r)))
                if (slot is null || slot == r) raw.add_(delta);
        learner.BeginBlock();
        learner.UntrackedStep(Train);
        return learner.EvaluateLoss(Validation)[0];
    }

    public Tensor TrainLoss(Tensor w) => Mse(Forward(w, TrainInputs), TrainTargets);

    public Tensor ValidationLoss(Tensor w) => Mse(Forward(w, ValidationInputs), ValidationTargets);

    /// <summary>u = η(μ b + ∇L_T(w) + ξ w) with x = (log10 η, logit μ, log10 ξ); b = d at the first step (b null).</summary>
    public Tensor Update(Tensor w, Tensor x, Tensor? b, bool createGraph)
    {
        var eta = torch.pow(10.0, x[0]);
        var mu = x[1].sigmoid();
        var xi = torch.pow(10.0, x[2]);
        var g = torch.autograd.grad([TrainLoss(w)], [w], create_graph: createGraph, retain_graph: createGraph)[0];
        var d = g + xi * w;
        var velocity = b is null ? d : mu * b + d;
        return eta * velocity;
    }

    /// <summary>The velocity b after the update from (w, b) (used to reproduce untracked steps).</summary>
    public Tensor NextVelocity(Tensor w, Tensor x, Tensor? b)
    {
        var g = torch.autograd.grad([TrainLoss(w)], [w])[0];
        var d = g + torch.pow(10.0, x[2]) * w;
        return b is null ? d : x[1].sigmoid() * b + d;
    }

    public static double RelativeError(double actual, double expected) =>
        Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
}
