using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hyperparameters;

public class HyperparameterTests
{
    [Theory]
    [InlineData(Transform.Identity, -3.5)]
    [InlineData(Transform.Log10, 3e-4)]
    [InlineData(Transform.Logit, 0.93)]
    public void Transforms_round_trip_and_agree_between_numbers_and_tensors(Transform transform, double value)
    {
        var raw = transform.ToRaw(value);
        Assert.Equal(value, transform.ToValue(raw), 12);
        var tensor = transform.ToValue(torch.tensor(raw, dtype: ScalarType.Float64)).item<double>();
        Assert.Equal(value, tensor, 12);
    }

    [Fact]
    public void Learning_rate_bounds_become_the_raw_clamp_of_the_paper()
    {
        var spec = new SgdMomentum().Hyperparameters[0];
        Assert.Equal((-10.0, 0.0), (spec.RawBounds.Min!.Value, spec.RawBounds.Max!.Value));
    }

    [Fact]
    public void Clamp_limits_scalar_and_per_weight_raw_values_elementwise()
    {
        var spec = new HyperparameterSpec("lr", 0.1, Transform.Log10, Min: 1e-3, Max: 1, PerWeight: true);
        using var set = new HyperparameterSet([spec], [[2, 2], [3]], ScalarType.Float64, torch.CPU);
        using (torch.no_grad())
        {
            set.Raw(0)[0].copy_(torch.tensor(new[,] { { -5.0, 0.5 }, { -1.0, 3.0 } }));
            set.Raw(0)[1].fill_(-2.5);
        }
        set.Clamp(0);
        Assert.Equal(new[] { -3.0, 0.0, -1.0, 0.0 }, set.Raw(0)[0].flatten().data<double>().ToArray());
        Assert.Equal(new[] { -2.5, -2.5, -2.5 }, set.Raw(0)[1].data<double>().ToArray());
        var snapshot = set.Snapshot(["a", "b"]);
        Assert.Equal(1e-3, snapshot["lr"].PerTensor!["a"].Min, 12);
        Assert.Equal(1.0, snapshot["lr"].PerTensor!["a"].Max, 12);
        Assert.Equal(Math.Pow(10, -2.5), snapshot["lr"].PerTensor!["b"].Value, 12);
        // Over all seven weights: values 1e-3, 1, 0.1, 1 and three of 10^-2.5.
        Assert.Equal(1e-3, snapshot["lr"].Min, 12);
        Assert.Equal(1.0, snapshot["lr"].Max, 12);
        Assert.Equal((1e-3 + 1 + 0.1 + 1 + 3 * Math.Pow(10, -2.5)) / 7, snapshot["lr"].Value, 12);
    }

    [Fact]
    public void Hyper_adam_matches_torch_adam_step_for_step()
    {
        var ours = torch.tensor(new[] { 0.3, -1.2, 2.0 }, dtype: ScalarType.Float64, requires_grad: true);
        var reference = new TorchSharp.Modules.Parameter(torch.tensor(new[] { 0.3, -1.2, 2.0 }, dtype: ScalarType.Float64));
        var optimizer = torch.optim.Adam([reference], lr: 0.05);
        using var adam = new HyperAdam(MemberLayout.Single, 0.05);
        var generator = new torch.Generator(2);
        for (var step = 0; step < 20; step++)
        {
            var gradient = torch.randn(3, dtype: ScalarType.Float64, generator: generator);
            adam.Step([ours], [gradient], [true]);
            reference.grad = gradient.clone();
            optimizer.step();
        }
        Assert.True((ours - reference).abs().max().item<double>() < 1e-12);
    }
}
