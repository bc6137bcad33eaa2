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

    int[]? _memberSteps;

    /// <summary>
    /// One Adam step for the members of a population marked in <paramref name="members"/>: row i
    /// of each parameter, its gradient and its moments is member i's, and each member counts its
    /// own steps for the bias correction. The other members' rows do not change.
    /// </summary>
    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, bool[] members)
    {
        if (!members.Any(m => m)) return;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        _memberSteps ??= new int[members.Length];
        for (var i = 0; i < members.Length; i++) if (members[i]) _memberSteps[i]++;
        var counts = _memberSteps.Select(n => Math.Max(n, 1)).ToArray();
        var device = parameters[0].device;
        var dtype = parameters[0].dtype;
        var step = torch.tensor(members, device: device);
        var correction2 = torch.tensor(counts.Select(n => 1 - Math.Pow(beta2, n)).ToArray(), dtype: dtype, device: device);
        var scale = torch.tensor(counts.Select(n => -learningRate / (1 - Math.Pow(beta1, n))).ToArray(), dtype: dtype, device: device);
        for (var j = 0; j < parameters.Count; j++)
        {
            var (p, g) = (parameters[j], gradients[j]);
            if (!_moments.TryGetValue(p, out var moments))
            {
                moments = (torch.zeros_like(p).DetachFromDisposeScope(), torch.zeros_like(p).DetachFromDisposeScope());
                _moments[p] = moments;
            }
            long[] shape = [members.Length, .. Enumerable.Repeat(1L, (int)p.dim() - 1)];
            var mask = step.reshape(shape);
            // As the single-run step above, on copies; then only the stepping members' rows are kept.
            var m = moments.M.mul(beta1).add_(g, alpha: 1 - beta1);
            var v = moments.V.mul(beta2).addcmul_(g, g, value: 1 - beta2);
            var denominator = (v / correction2.reshape(shape)).sqrt_().add_(epsilon);
            var updated = p + m / denominator * scale.reshape(shape);
            moments.M.copy_(torch.where(mask, m, moments.M));
            moments.V.copy_(torch.where(mask, v, moments.V));
            p.copy_(torch.where(mask, updated, p));
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
