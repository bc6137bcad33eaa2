using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Each member's batches, stacked: member i draws its batch exactly as a single run with its
/// seed would (its own sampler), and the population gets them as one split [N, B, …].
/// </summary>
internal sealed class PopulationBatches(Split split, int? batchSize, IReadOnlyList<long> seeds) : IBatchSource
{
    readonly BatchSampler[] _members = seeds.Select(seed => new BatchSampler(split, batchSize, seed)).ToArray();

    public Split Next()
    {
        var n = _members.Length;
        if (_members[0].FullBatch)
            // Every member trains on the whole split: a view, no copy.
            return new Split(Expand(split.Inputs, n), Expand(split.Targets, n));
        var indices = torch.stack(_members.Select(m => m.NextIndices()).ToArray());
        var rows = indices.shape[1];
        var flat = indices.reshape(-1);
        long[] inputShape = [n, rows, .. split.Inputs.shape[1..]];
        long[] targetShape = [n, rows, .. split.Targets.shape[1..]];
        return new Split(split.Inputs.index_select(0, flat).reshape(inputShape), split.Targets.index_select(0, flat).reshape(targetShape));
    }

    /// <summary><paramref name="tensor"/> [R, …] as [N, R, …] without copying.</summary>
    public static Tensor Expand(Tensor tensor, int members)
    {
        long[] shape = [members, .. tensor.shape];
        return tensor.unsqueeze(0).expand(shape);
    }

    public void Save(Checkpoint checkpoint, string name)
    {
        for (var m = 0; m < _members.Length; m++) _members[m].Save(checkpoint, $"{name}/{m}");
    }

    public void Load(Checkpoint checkpoint, string name)
    {
        for (var m = 0; m < _members.Length; m++) _members[m].Load(checkpoint, $"{name}/{m}");
    }

    public void Dispose()
    {
        foreach (var member in _members) member.Dispose();
    }
}
