using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hypergradients;

/// <summary>A linear model whose output is scaled by a tunable factor s, so s appears in L_V directly.</summary>
[TunableModel]
internal sealed partial class ScaledLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, IDE0044 // [Hyperparameter] fields are named as the hyperparameters they declare, and the generated code assigns them
    /// <summary>Factor applied to the output.</summary>
    [Hyperparameter(Initial = 1.5, Transform = Transform.Identity)]
    private Tensor outputScale;
#pragma warning restore IDE1006, IDE0044

#pragma warning disable IDE1006 // RegisterComponents names the submodule after the field
    private readonly TorchSharp.Modules.Linear linear;
#pragma warning restore IDE1006

    public ScaledLinear(int inputs) : base(nameof(ScaledLinear))
    {
        linear = nn.Linear(inputs, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => outputScale * linear.call(input);
}

public class DirectTermTests
{
    [Fact]
    public void Hyperparameter_used_in_the_validation_loss_gets_its_direct_term()
    {
        const int d = 3;
        var generator = new torch.Generator(5);
        var x = torch.randn(10, d, dtype: ScalarType.Float64, generator: generator);
        var y = torch.randn(10, 1, dtype: ScalarType.Float64, generator: generator);
        var xv = torch.randn(7, d, dtype: ScalarType.Float64, generator: generator);
        var yv = torch.randn(7, 1, dtype: ScalarType.Float64, generator: generator);
        const double eta = 0.1, xi = 0.01;

        torch.manual_seed(1);
        var learner = new Learner(new ScaledLinear(d).to(ScalarType.Float64), new ScaledLinear(d).to(ScalarType.Float64),
            new SgdMomentum(eta, 0.9, xi), Loss.MeanSquaredError);
        var weight = learner.Weights[0].detach().clone();
        var bias = learner.Weights[1].detach().clone();
        Assert.Equal(["learningRate", "momentum", "weightDecay", "outputScale"], learner.Hyperparameters.Specs.Select(s => s.Name));
        Assert.Equal("Factor applied to the output.", learner.Hyperparameters.Specs[3].Summary);
        var result = learner.TrackedStep(new Split(x, y), new Split(xv, yv), neumannTerms: 1, [3]);
        var actual = result.Hypergradient[0].item<double>();

        // f(s) = L_V(w − η(∇L_T(w, s) + ξw), s), written out by hand; the first step has no momentum.
        double Objective(double s)
        {
            var w = weight.clone().requires_grad_(true);
            var b = bias.clone().requires_grad_(true);
            var trainLoss = (s * (x.matmul(w.t()) + b) - y).square().mean();
            var grads = torch.autograd.grad([trainLoss], [w, b]);
            using var _ = torch.no_grad();
            var wNew = w - eta * (grads[0] + xi * w);
            var bNew = b - eta * (grads[1] + xi * b);
            return (s * (xv.matmul(wNew.t()) + bNew) - yv).square().mean().item<double>();
        }
        const double h = 1e-6;
        var expected = (Objective(1.5 + h) - Objective(1.5 - h)) / (2 * h);
        Assert.True(Math.Abs(expected) > 1e-4);
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-6, $"runtime {actual}, finite differences {expected}");
    }
}
