using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Adam on the raw hyperparameter tensors (PyTorch's update with bias correction), for the
/// members of a run laid out by a <see cref="MemberLayout"/>: row i of each stacked parameter, its
/// gradient and its moments is member i's, and each member counts its own steps for the bias
/// correction, so that a member whose step is skipped (or who is frozen) changes nothing.
/// </summary>
internal sealed class HyperAdam(MemberLayout layout, double learningRate = 0.05, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : IDisposable
{
    readonly Dictionary<Tensor, (Tensor M, Tensor V)> _moments = new(ReferenceEqualityComparer.Instance);
    int[] _steps = new int[layout.Members];

    /// <summary>
    /// One Adam step, in place under no_grad, for the members marked in <paramref name="members"/>:
    /// <paramref name="parameters"/>[j] -= update(<paramref name="gradients"/>[j]). The other members' rows do not change.
    /// </summary>
    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, bool[] members)
    {
        if (!members.Any(m => m)) return;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        for (var i = 0; i < members.Length; i++) if (members[i]) _steps[i]++;
        var counts = _steps.Select(n => Math.Max(n, 1)).ToArray();
        var everyone = members.All(m => m);
        for (var j = 0; j < parameters.Count; j++)
        {
            var (p, g) = (parameters[j], gradients[j]);
            if (!_moments.TryGetValue(p, out var moments))
            {
                moments = (torch.zeros_like(p).DetachFromDisposeScope(), torch.zeros_like(p).DetachFromDisposeScope());
                _moments[p] = moments;
            }
            var rank = (int)p.dim();
            var correction2 = layout.Numbers(counts.Select(n => 1 - Math.Pow(beta2, n)).ToArray(), rank, p.dtype, p.device);
            var scale = layout.Numbers(counts.Select(n => -learningRate / (1 - Math.Pow(beta1, n))).ToArray(), rank, p.dtype, p.device);
            // On copies; then only the stepping members' rows are kept (all of them, most often).
            var m = moments.M.mul(beta1).add_(g, alpha: 1 - beta1);
            var v = moments.V.mul(beta2).addcmul_(g, g, value: 1 - beta2);
            var denominator = (v / correction2).sqrt_().add_(epsilon);
            var updated = p.addcdiv(m * scale, denominator);
            if (everyone)
            {
                moments.M.copy_(m);
                moments.V.copy_(v);
                p.copy_(updated);
                continue;
            }
            var mask = layout.Mask(members, rank, p.device);
            moments.M.copy_(torch.where(mask, m, moments.M));
            moments.V.copy_(torch.where(mask, v, moments.V));
            p.copy_(torch.where(mask, updated, p));
        }
    }

    /// <summary>Writes each member's step count and the moments of <paramref name="parameters"/>, each under its name in <paramref name="names"/>.</summary>
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
        using var steps = checkpoint.Get("adam/steps", torch.CPU)!;
        // One count per member (a checkpoint of an earlier version holds one number).
        var counts = steps.to(ScalarType.Int32).reshape(-1).data<int>().ToArray();
        if (counts.Length != _steps.Length)
            throw new TrainTuneException($"The checkpoint's hyper-optimiser counts steps for {counts.Length} members, but the run has {_steps.Length}; delete the checkpoint to start afresh.");
        Dispose();
        _steps = counts;
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
