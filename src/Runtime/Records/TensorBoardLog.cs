using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A run's scalars as TensorBoard event files (through TorchSharp's SummaryWriter), one event per
/// scalar per block: loss/train, loss/validation, hyperparameters/NAME (and NAME/min, NAME/max for
/// a per-weight one), hypergradient/norm and hypergradient/skipped (hyper steps skipped so far).
/// </summary>
internal sealed class TensorBoardLog(string folder)
{
    readonly SummaryWriter _writer = Open(folder);

    static SummaryWriter Open(string folder)
    {
        try
        {
            return utils.tensorboard.SummaryWriter(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrainTuneException($"Cannot write TensorBoard events to '{folder}': {e.Message} Choose a writable folder.", e);
        }
    }

    /// <summary>The run's metric on the full splits, at its last step: metric/NAME/train, /validation, /test.</summary>
    public void Finished(int step, RunMetric metric)
    {
        _writer.add_scalar($"metric/{metric.Name}/train", (float)metric.Train, step);
        _writer.add_scalar($"metric/{metric.Name}/validation", (float)metric.Validation, step);
        if (metric.Test is { } test) _writer.add_scalar($"metric/{metric.Name}/test", (float)test, step);
    }

    public void Block(BlockRecord block, int skippedSoFar)
    {
        void Add(string tag, double value) => _writer.add_scalar(tag, (float)value, block.Step);
        Add("loss/train", block.TrainLoss);
        Add("loss/validation", block.ValidationLoss);
        foreach (var (name, value) in block.Hyperparameters)
        {
            Add($"hyperparameters/{name}", value.Value);
            foreach (var (group, groupValue) in value.PerGroup ?? new Dictionary<string, HyperparameterValue>()) Add($"hyperparameters/{name}/{group}", groupValue.Value);
            if (value.PerTensor is null) continue;
            Add($"hyperparameters/{name}/min", value.Min);
            Add($"hyperparameters/{name}/max", value.Max);
        }
        if (block.HypergradientNorm is { } norm) Add("hypergradient/norm", norm);
        Add("hypergradient/skipped", skippedSoFar);
    }
}
