using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// How the members of a run lie in its tensors. A run trains N members with one engine: an
/// ordinary run is one member whose tensors have no member dimension (<see cref="Single"/>); a
/// population stacks N members along a leading dimension, so that row i of every weight, state
/// and per-weight hyperparameter is member i's and a scalar hyperparameter is [N]. A rule that
/// reduces over all weight tensors (<see cref="IAcrossWeightsUpdate"/>) takes its sums through the
/// layout, and so keeps one value per member.
/// </summary>
public abstract class MemberLayout
{
    private protected MemberLayout() { }

    /// <summary>One member, tensors without a member dimension: an ordinary run.</summary>
    public static MemberLayout Single { get; } = new SingleLayout();

    /// <summary><paramref name="members"/> members stacked along dimension 0 (a population).</summary>
    internal static MemberLayout Stacked(int members) => new StackedLayout(members);

    /// <summary>The number of members: 1 for an ordinary run.</summary>
    public abstract int Members { get; }

    /// <summary>The sum of every element of <paramref name="tensor"/> per member: 0-dimensional for one member, [N] stacked.</summary>
    public abstract Tensor Sum(Tensor tensor);

    /// <summary>A value per member (0-dimensional, or [N] stacked) shaped to broadcast against <paramref name="like"/> (a weight tensor).</summary>
    public Tensor Spread(Tensor perMember, Tensor like) => SpreadTo(perMember, (int)like.dim());

    /// <summary>A value per member shaped to broadcast over a laid-out tensor of <paramref name="rank"/> dimensions.</summary>
    internal virtual Tensor SpreadTo(Tensor perMember, int rank) => perMember.reshape(Shape(rank));

    /// <summary>
    /// A scalar hyperparameter's value for one weight as one value per member (0-dimensional, or
    /// [N] stacked); an error names a hyperparameter that was made per weight.
    /// </summary>
    public Tensor PerMember(Tensor value, string name)
    {
        if (value.numel() != Members)
            throw new TrainTuneException($"'{name}' is used across all weights (a sum over every weight tensor): it cannot be per weight. Leave it one value for all weights.");
        return value.reshape(Shape(1));
    }

    /// <summary>A constant, one per member, of <paramref name="like"/>'s dtype and device.</summary>
    public Tensor Constant(double value, Tensor like) => torch.full(Shape(1), value, dtype: like.dtype, device: like.device);

    /// <summary>
    /// The shape that spreads one value per member over a laid-out tensor of <paramref name="rank"/>
    /// dimensions (the member dimension included): [] for one member, [N, 1, …, 1] stacked ([N] for rank 1).
    /// </summary>
    internal abstract long[] Shape(int rank);

    /// <summary>Per-member numbers as a tensor shaped to broadcast over a tensor of <paramref name="rank"/> dimensions.</summary>
    internal Tensor Numbers(double[] perMember, int rank, ScalarType dtype, Device device) =>
        torch.tensor(perMember, dtype: dtype, device: device).reshape(Shape(rank));

    /// <summary>Per-member flags shaped to broadcast over a tensor of <paramref name="rank"/> dimensions (for torch.where).</summary>
    internal Tensor Mask(bool[] perMember, int rank, Device device) => torch.tensor(perMember, device: device).reshape(Shape(rank));

    /// <summary>The dimension of a laid-out batch that holds its rows: 0 for one member, 1 stacked ([N, B, …]).</summary>
    internal abstract int RowDimension { get; }

    /// <summary>A split every member sees whole (an evaluation), laid out: as it is, or viewed as [N, R, …] without copying.</summary>
    internal abstract Split Everyone(Split split);

    /// <summary>Each member's loss of laid-out <paramref name="output"/> against <paramref name="target"/>: a scalar, or [N].</summary>
    internal abstract Tensor Loss(Loss loss, Tensor output, Tensor target);

    /// <summary><paramref name="metric"/> of laid-out outputs and targets, one value per member ([members]).</summary>
    internal virtual Tensor Metric(Metric metric, Tensor output, Tensor target) =>
        torch.stack(Enumerable.Range(0, Members).Select(m => metric.Compute(output[m], target[m]).reshape(-1)).ToArray()).reshape(-1);

    /// <summary>Why laid-out outputs and targets do not fit <paramref name="loss"/>, or null (checked on member 0).</summary>
    internal abstract string? ShapeProblem(Loss loss, Tensor output, Tensor target);

    /// <summary>Each member's batches, drawn as the single run of its seed would draw them.</summary>
    internal abstract IBatchSource Batches(Split split, int? batchSize, IReadOnlyList<long> seeds);

    /// <summary>
    /// The model, its shadow and a maker of further copies for members seeded with
    /// <paramref name="seeds"/>: one built model, or the members' models stacked. Called under
    /// the process's seed lock.
    /// </summary>
    internal abstract (nn.Module<Tensor, Tensor> Model, nn.Module<Tensor, Tensor> Shadow, Func<nn.Module<Tensor, Tensor>> Copies) Build(Func<nn.Module<Tensor, Tensor>> build, IReadOnlyList<long> seeds);

    /// <summary>The parameter names users know the model's weights by.</summary>
    internal virtual IReadOnlyList<string> WeightNames(nn.Module<Tensor, Tensor> model) => model.named_parameters().Select(p => p.name).ToArray();

    /// <summary>Why <paramref name="rule"/> cannot train this layout's members, or null.</summary>
    internal virtual string? RuleProblem(IWeightUpdate rule) => null;

    sealed class SingleLayout : MemberLayout
    {
        public override int Members => 1;

        public override Tensor Sum(Tensor tensor) => tensor.sum();

        internal override long[] Shape(int rank) => [];

        // One member's value is already 0-dimensional: the same tensor serves every weight.
        internal override Tensor SpreadTo(Tensor perMember, int rank) => perMember;

        internal override int RowDimension => 0;

        internal override Split Everyone(Split split) => split;

        internal override Tensor Loss(Loss loss, Tensor output, Tensor target) => loss.Compute(output, target);

        internal override Tensor Metric(Metric metric, Tensor output, Tensor target) => metric.Compute(output, target);

        internal override string? ShapeProblem(Loss loss, Tensor output, Tensor target) => loss.ShapeProblem(output, target);

        internal override IBatchSource Batches(Split split, int? batchSize, IReadOnlyList<long> seeds) => new BatchSampler(split, batchSize, seeds[0]);

        internal override (nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>>) Build(Func<nn.Module<Tensor, Tensor>> build, IReadOnlyList<long> seeds)
        {
            torch.manual_seed(seeds[0]);
            var model = build();
            return (model, build(), build);
        }
    }
}
