using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The learner's losses without a graph, at the rule's evaluation point and in evaluation mode,
/// and the probe that turns a wrong input shape or loss into a clear error before training.
/// </summary>
internal static class Evaluation
{
    /// <summary>Moves the weights to the rule's evaluation point until disposed (see <see cref="EvaluationPoint"/>).</summary>
    public static IDisposable AtEvaluationPoint(this Learner learner) => learner.Point.Enter(learner);

    /// <summary>
    /// Input elements per chunk of an evaluation (2 MB of float32): a chunk's activations stay
    /// small enough to be fast. Measured with bench/ModelBench on a CNN over 10,000 28×28 images:
    /// 7.8 s in chunks of 8192 rows, 1.2 s of 2048, 0.88 s of 512 and of 128.
    /// </summary>
    const long ChunkElements = 1 << 19;

    /// <summary>Rows per chunk for inputs of <paramref name="elementsPerRow"/> elements: up to 8192, at least 16, the chunk's inputs within <see cref="ChunkElements"/>.</summary>
    internal static long ChunkRows(long elementsPerRow) => Math.Clamp(ChunkElements / Math.Max(1, elementsPerRow), 16, 8192);

    /// <summary>Rows per chunk of a split whose rows are its inputs' first dimension.</summary>
    internal static long ChunkRows(Split split) => ChunkRows(split.Inputs.numel() / Math.Max(1, split.Rows));

    /// <summary>Each member's loss on the whole of <paramref name="split"/>, every member on the same rows.</summary>
    public static double[] EvaluateLoss(this Learner learner, Split split, long? chunkRows = null) =>
        Evaluate(learner, split, laidOut: false, chunkRows, null).Loss;

    /// <summary>Each member's loss and <paramref name="metric"/> on the whole of <paramref name="split"/>, in one pass.</summary>
    public static (double[] Loss, double[] Metric) EvaluateLossAndMetric(this Learner learner, Split split, Metric metric, long? chunkRows = null)
    {
        var (loss, values) = Evaluate(learner, split, laidOut: false, chunkRows, metric);
        return (loss, values!);
    }

    /// <summary>Each member's loss on a batch already laid out for the members (a population's [N, B, …]: each member on its own rows).</summary>
    public static double[] EvaluateBatch(this Learner learner, Split batch) => Evaluate(learner, batch, laidOut: true, null, null).Loss;

    static (double[] Loss, double[]? Metric) Evaluate(Learner learner, Split split, bool laidOut, long? rowsPerChunk, Metric? metric)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var layout = learner.Layout;
        nn.Module<Tensor, Tensor> shadow;
        // On the shadow: the trained model's modes and buffers are never touched by an evaluation.
        using (learner.AtEvaluationPoint()) shadow = ShadowValidation.OfModel(learner);
        learner.SetModelHyperparameters(shadow, learner.CurrentValues());
        var rowDimension = laidOut ? layout.RowDimension : 0;
        var rows = split.Inputs.shape[rowDimension];
        // Every member evaluates on the same rows: fewer rows per chunk.
        var elementsPerRow = split.Inputs.numel() / Math.Max(1, rowDimension == 0 ? rows : split.Inputs.shape[0] * rows);
        // A window that carries a state is one piece: its streams go through together.
        var chunkRows = split.State is not null ? rows : Math.Max(1, (rowsPerChunk ?? ChunkRows(elementsPerRow)) / learner.Members);
        var total = torch.zeros(learner.Members, dtype: ScalarType.Float64);
        var metricTotal = torch.zeros(learner.Members, dtype: ScalarType.Float64);
        for (long start = 0; start < rows; start += chunkRows)
        {
            using var chunkScope = torch.NewDisposeScope();
            var length = Math.Min(chunkRows, rows - start);
            var chunk = new Split(split.Inputs.narrow(rowDimension, start, length), split.Targets.narrow(rowDimension, start, length));
            if (!laidOut) chunk = layout.Everyone(chunk);
            var output = split.State is { } state ? state.Forward(shadow, chunk.Inputs) : shadow.call(chunk.Inputs);
            total.add_(Learner.PerMember(layout.Loss(learner.Loss, output, chunk.Targets)).to(ScalarType.Float64).cpu() * length);
            if (metric is not null) metricTotal.add_(MetricOf(learner, metric, output, chunk.Targets).cpu() * length);
        }
        return ((total / rows).data<double>().ToArray(), metric is null ? null : (metricTotal / rows).data<double>().ToArray());
    }

    /// <summary>
    /// The loss (and <paramref name="metric"/>) over every window of <paramref name="streams"/> in
    /// order, from the model's initial state carried from window to window: the mean per target token.
    /// </summary>
    public static (double[] Loss, double[]? Metric) EvaluateStreams(this Learner learner, SequenceStreams streams, Metric? metric)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        nn.Module<Tensor, Tensor> shadow;
        using (learner.AtEvaluationPoint()) shadow = ShadowValidation.OfModel(learner);
        learner.SetModelHyperparameters(shadow, learner.CurrentValues());
        using var state = new CarriedState();
        var (total, metricTotal, count) = (0.0, 0.0, 0L);
        for (var i = 0; i < streams.Windows; i++)
        {
            using var windowScope = torch.NewDisposeScope();
            var window = streams.At(i);
            var output = state.Forward(shadow, window.Inputs);
            var tokens = window.Targets.numel();
            total += learner.Loss.Compute(output, window.Targets).to(ScalarType.Float64).item<double>() * tokens;
            if (metric is not null) metricTotal += MetricOf(learner, metric, output, window.Targets).item<double>() * tokens;
            count += tokens;
        }
        return ([total / count], metric is null ? null : [metricTotal / count]);
    }

    /// <summary><paramref name="metric"/> per member, [members] in float64; a metric that is not one number per member is a clear error.</summary>
    static Tensor MetricOf(Learner learner, Metric metric, Tensor output, Tensor targets)
    {
        Tensor value;
        try
        {
            value = learner.Layout.Metric(metric, output, targets);
        }
        catch (Exception e) when (e is ExternalException or ArgumentException)
        {
            throw new TrainTuneException($"The metric {metric.Name} failed on the model's output {TrainingData.Shape(output)} and targets {TrainingData.Shape(targets)}: {FirstLine(e.Message)}.", e);
        }
        if (value.numel() != learner.Members)
            throw new TrainTuneException($"The metric {metric.Name} returned a tensor of shape {TrainingData.Shape(value)}; a metric must return a scalar (the mean over the rows it is given).");
        return value.reshape(-1).to(ScalarType.Float64);
    }

    /// <summary>
    /// Runs the model and the loss once on a few rows, so that a wrong input shape or loss
    /// is a clear error before training starts: on the shadow in evaluation mode, so that the
    /// trained model's buffers (BatchNorm's statistics) and the random number generator are not touched.
    /// </summary>
    public static void Probe(this Learner learner, Split split, Metric? metric = null)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var rows = Math.Min(2, split.Rows);
        var probe = learner.Layout.Everyone(new Split(split.Inputs.narrow(0, 0, rows), split.Targets.narrow(0, 0, rows)));
        var loss = learner.Loss;
        var shadow = learner.Shadow;
        shadow.eval();
        learner.SetModelHyperparameters(shadow, learner.Hyperparameters.Values());
        Tensor output;
        try
        {
            output = shadow.call(probe.Inputs);
        }
        catch (Exception e) when (e is ExternalException or ArgumentException)
        {
            throw new TrainTuneException($"The model cannot take inputs of shape {TrainingData.Shape(split.Inputs)} (tried the first {rows} rows): {FirstLine(e.Message)}. Check the model's input size against the data.", e);
        }
        if (learner.Layout.ShapeProblem(loss, output, probe.Targets) is { } problem)
            throw new TrainTuneException($"The loss {loss.Name} does not fit the model's output: {problem}.");
        Tensor value;
        try
        {
            value = learner.Layout.Loss(loss, output, probe.Targets);
        }
        catch (Exception e) when (e is ExternalException or ArgumentException)
        {
            throw new TrainTuneException($"The loss {loss.Name} failed on the model's output {TrainingData.Shape(output)} and targets {TrainingData.Shape(probe.Targets)}: {FirstLine(e.Message)}.", e);
        }
        if (value.numel() != learner.Members)
            throw new TrainTuneException($"The loss {loss.Name} returned a tensor of shape {TrainingData.Shape(value)}; a loss must return a scalar (reduce it with mean() or sum()).");
        if (metric is not null) MetricOf(learner, metric, output, probe.Targets);
    }

    static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
