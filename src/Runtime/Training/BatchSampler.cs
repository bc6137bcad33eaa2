using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>Where a run's batches come from: one run's sampler, or a population's stacked samplers.</summary>
internal interface IBatchSource : IDisposable
{
    /// <summary>The next batch, laid out for the run's members; its tensors belong to the caller's dispose scope.</summary>
    Split Next();

    /// <summary>Writes where the source stands under <paramref name="name"/>.</summary>
    void Save(Checkpoint checkpoint, string name);

    void Load(Checkpoint checkpoint, string name);
}

/// <summary>
/// Draws batches from a split: the whole split when the batch size is null or covers it,
/// otherwise batches of a fresh seeded permutation per epoch (an incomplete tail is dropped).
/// </summary>
internal sealed class BatchSampler(Split split, int? batchSize, long seed) : IBatchSource
{
    readonly Generator _generator = new((ulong)seed, torch.CPU);
    Tensor? _order;
    long _position;

    public bool FullBatch => batchSize is null || batchSize >= split.Rows;

    /// <summary>The next batch; its tensors belong to the caller's dispose scope.</summary>
    public Split Next()
    {
        if (FullBatch) return split;
        var indices = NextIndices();
        return new Split(split.Inputs.index_select(0, indices), split.Targets.index_select(0, indices));
    }

    /// <summary>The rows of the next batch (not for a full batch).</summary>
    public Tensor NextIndices()
    {
        var size = batchSize!.Value;
        if (_order is null || _position + size > split.Rows)
        {
            _order?.Dispose();
            _order = torch.randperm(split.Rows, generator: _generator).to(split.Inputs.device).DetachFromDisposeScope();
            _position = 0;
        }
        var indices = _order.narrow(0, _position, size);
        _position += size;
        return indices;
    }

    public void Save(Checkpoint checkpoint, string name)
    {
        checkpoint.Put($"{name}/generator", _generator.get_state());
        checkpoint.Put($"{name}/order", _order);
        checkpoint.Put($"{name}/position", torch.tensor(_position));
    }

    public void Load(Checkpoint checkpoint, string name)
    {
        _generator.set_state(checkpoint.Get($"{name}/generator", torch.CPU)!);
        _order?.Dispose();
        _order = checkpoint.Get($"{name}/order", split.Inputs.device)?.DetachFromDisposeScope();
        _position = checkpoint.Get($"{name}/position", torch.CPU)!.item<long>();
    }

    public void Dispose()
    {
        _order?.Dispose();
        _generator.Dispose();
    }
}
