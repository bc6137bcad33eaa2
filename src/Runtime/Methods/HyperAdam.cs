using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Adam on the raw hyperparameter tensors (PyTorch's update with bias correction). Kept
/// as a small explicit state so that it can be checkpointed and batched later.
/// </summary>
internal sealed class HyperAdam(double learningRate = 0.05, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : IDisposable
{
    readonly Dictionary<Tensor, (Tensor M, Tensor V)> _moments = new(ReferenceEqualityComparer.Instance);
    int _steps;

    public double LearningRate => learningRate;

    /// <summary>One Adam step: <paramref name="parameters"/>[j] -= update(<paramref name="gradients"/>[j]), in place under no_grad.</summary>
    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients)
    {
        using var _ = torch.no_grad();
        _steps++;
        var correction1 = 1 - Math.Pow(beta1, _steps);
        var correction2 = 1 - Math.Pow(beta2, _steps);
        for (var j = 0; j < parameters.Count; j++)
        {
            var (p, g) = (parameters[j], gradients[j]);
            if (!_moments.TryGetValue(p, out var moments))
            {
                moments = (torch.zeros_like(p).DetachFromDisposeScope(), torch.zeros_like(p).DetachFromDisposeScope());
                _moments[p] = moments;
            }
            moments.M.mul_(beta1).add_(g, alpha: 1 - beta1);
            moments.V.mul_(beta2).addcmul_(g, g, value: 1 - beta2);
            using var denominator = (moments.V / correction2).sqrt_().add_(epsilon);
            p.addcdiv_(moments.M, denominator, value: -learningRate / correction1);
        }
    }

    /// <summary>Writes the step count and the moments of <paramref name="parameters"/>, each under its name in <paramref name="names"/>.</summary>
    internal void Save(Checkpoint checkpoint, IReadOnlyList<string> names, IReadOnlyList<Tensor> parameters)
    {
        checkpoint.Put("adam/steps", torch.tensor(_steps));
        for (var j = 0; j < parameters.Count; j++)
            if (_moments.TryGetValue(parameters[j], out var moments))
            {
                checkpoint.Put($"adam/m/{names[j]}", moments.M);
                checkpoint.Put($"adam/v/{names[j]}", moments.V);
            }
    }

    internal void Load(Checkpoint checkpoint, IReadOnlyList<string> names, IReadOnlyList<Tensor> parameters)
    {
        Dispose();
        _steps = checkpoint.Get("adam/steps", torch.CPU)!.item<int>();
        for (var j = 0; j < parameters.Count; j++)
            if (checkpoint.Tensors.ContainsKey($"adam/m/{names[j]}"))
                _moments[parameters[j]] = (checkpoint.Get($"adam/m/{names[j]}", parameters[j].device)!.DetachFromDisposeScope(),
                    checkpoint.Get($"adam/v/{names[j]}", parameters[j].device)!.DetachFromDisposeScope());
    }

    public void Dispose()
    {
        foreach (var (m, v) in _moments.Values) { m.Dispose(); v.Dispose(); }
        _moments.Clear();
    }
}
