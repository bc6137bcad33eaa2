using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// N members stacked along dimension 0 (docs/ALGORITHM.md, "Populations"): weights [N, …],
/// batches [N, B, …], losses [N]; the model is a <see cref="PopulationModel"/>.
/// </summary>
internal sealed class StackedLayout : MemberLayout
{
    public StackedLayout(int members) =>
        Members = members >= 1 ? members : throw new ArgumentOutOfRangeException(nameof(members), members, "A population has at least one member.");

    public override int Members { get; }

    public override Tensor Sum(Tensor tensor) => tensor.reshape(Members, -1).sum(1);

    internal override long[] Shape(int rank) => [Members, .. Enumerable.Repeat(1L, Math.Max(rank, 1) - 1)];

    internal override int RowDimension => 1;

    internal override Split Everyone(Split split) => new(PopulationBatches.Expand(split.Inputs, Members), PopulationBatches.Expand(split.Targets, Members));

    internal override Tensor Loss(Loss loss, Tensor output, Tensor target)
    {
        if (ReferenceEquals(loss, TrainTune.Loss.MeanSquaredError))
            return (output - target).square().reshape(Members, -1).mean([1]);
        if (ReferenceEquals(loss, TrainTune.Loss.CrossEntropy))
        {
            var classes = output.shape[^1];
            return nn.functional.cross_entropy(output.reshape(-1, classes), target.reshape(-1), reduction: nn.Reduction.None)
                .reshape(Members, -1).mean([1]);
        }
        // A loss of the user's own: once per member.
        return torch.stack(Enumerable.Range(0, Members).Select(i => loss.Compute(output[i], target[i]).reshape(Array.Empty<long>())).ToArray());
    }

    internal override string? ShapeProblem(Loss loss, Tensor output, Tensor target) => loss.ShapeProblem(output[0], target[0]);

    internal override IBatchSource Batches(Split split, int? batchSize, IReadOnlyList<long> seeds) => new PopulationBatches(split, batchSize, seeds);

    internal override (nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>>) Build(Func<nn.Module<Tensor, Tensor>> build, IReadOnlyList<long> seeds)
    {
        var members = new List<nn.Module<Tensor, Tensor>>();
        try
        {
            foreach (var seed in seeds)
            {
                // Each member's weights are those a single run with its seed starts from.
                torch.manual_seed(seed);
                members.Add(build());
            }
            var stacked = PopulationModel.Stack(members);
            return (stacked, stacked.Copy(), stacked.Copy);
        }
        finally
        {
            foreach (var member in members) member.Dispose();
        }
    }

    internal override IReadOnlyList<string> WeightNames(nn.Module<Tensor, Tensor> model) => ((PopulationModel)model).WeightNames;

    internal override string? RuleProblem(IWeightUpdate rule) =>
        rule.KeepsStateAcrossWeights && rule is not IAcrossWeightsUpdate
            ? $"The rule {rule.GetType().Name} keeps state across all weight tensors, and a population's stacked tensors hold every member's weights: its members would share that state. Implement IAcrossWeightsUpdate, whose sums run per member, or run the seeds one at a time (TuningRun.Run per seed, or -p:TrainTunePopulation=1)."
            : null;
}
