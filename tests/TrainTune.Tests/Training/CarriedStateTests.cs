using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>
/// Truncated back-propagation with carried state in a loop of one's own: the training and
/// validation states a <see cref="CarriedState"/> carries equal an LSTM computed by hand (its cell
/// equations, from the weights at each step) over three windows, each stream set separate.
/// </summary>
public class CarriedStateTests
{
    const int Vocabulary = 7, Width = 3, Hidden = 4;

    /// <summary>Embedding → one LSTM layer → Linear, float64, its state (h, c) carried outside.</summary>
    internal sealed class TinyLstm : nn.Module<Tensor, Tensor>, IRecurrentModel
    {
#pragma warning disable IDE1006 // RegisterComponents names the submodules after the fields
        readonly nn.Module<Tensor, Tensor> embedding, decoder;
        readonly TorchSharp.Modules.LSTM lstm;
#pragma warning restore IDE1006

        public TinyLstm() : base(nameof(TinyLstm))
        {
            embedding = nn.Embedding(Vocabulary, Width, dtype: ScalarType.Float64);
            lstm = nn.LSTM(Width, Hidden, batchFirst: true, dtype: ScalarType.Float64);
            decoder = nn.Linear(Hidden, Vocabulary, dtype: ScalarType.Float64);
            RegisterComponents();
        }

        public Tensor[] InitialState(long streams) =>
            [torch.zeros(1, streams, Hidden, dtype: ScalarType.Float64), torch.zeros(1, streams, Hidden, dtype: ScalarType.Float64)];

        public (Tensor Output, Tensor[] State) Forward(Tensor window, Tensor[] state)
        {
            var (output, h, c) = lstm.call(embedding.call(window), (state[0], state[1]));
            return (decoder.call(output), [h, c]);
        }

        public override Tensor forward(Tensor window) => Forward(window, InitialState(window.shape[0])).Output;
    }

    internal static Tensor TokenLoss(Tensor output, Tensor targets) => nn.functional.cross_entropy(output.reshape(-1, Vocabulary), targets.reshape(-1));

    /// <summary>The LSTM's cell equations (gates i, f, g, o, as PyTorch orders them) over a window, from parameter values by name.</summary>
    static (Tensor H, Tensor C) ByHand(Dictionary<string, Tensor> p, Tensor window, Tensor h, Tensor c)
    {
        for (var t = 0; t < window.shape[1]; t++)
        {
            var x = p["embedding.weight"].index_select(0, window.select(1, t));
            var gates = x.matmul(p["lstm.weight_ih_l0"].t()) + p["lstm.bias_ih_l0"] + h.matmul(p["lstm.weight_hh_l0"].t()) + p["lstm.bias_hh_l0"];
            var g = gates.chunk(4, 1);
            c = torch.sigmoid(g[1]) * c + torch.sigmoid(g[0]) * torch.tanh(g[2]);
            h = torch.sigmoid(g[3]) * torch.tanh(c);
        }
        return (h, c);
    }

    static Dictionary<string, Tensor> Values(nn.Module model) => model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    static void AssertState(CarriedState carried, (Tensor H, Tensor C) expected, string what)
    {
        Assert.NotNull(carried.Current);
        Assert.True((carried.Current![0][0] - expected.H).abs().max().item<double>() < 1e-12, $"{what}: h differs from the hand computation");
        Assert.True((carried.Current![1][0] - expected.C).abs().max().item<double>() < 1e-12, $"{what}: c differs from the hand computation");
    }

    [Fact]
    public void The_training_and_validation_states_equal_an_lstm_computed_by_hand_over_three_windows()
    {
        var generator = new torch.Generator(4);
        var train = new SequenceStreams(torch.randint(Vocabulary, [40], generator: generator), streams: 2, window: 3, vocabulary: Vocabulary);
        var validation = new SequenceStreams(torch.randint(Vocabulary, [30], generator: generator), streams: 2, window: 3, vocabulary: Vocabulary);
        torch.manual_seed(1);
        var model = new TinyLstm();
        // A hyper step after every weight step: the validation stream advances once per step, at the new weights.
        using var tuner = Tuner.For(model, () => new TinyLstm(), new SgdMomentum(0.5, 0.5, 1e-3), Method.OnePass(stepsPerHyperstep: 1));
        tuner.Warnings = null;
        using var trainState = new CarriedState();
        using var validationState = new CarriedState();
        var hand = (H: torch.zeros(2, Hidden, dtype: ScalarType.Float64), C: torch.zeros(2, Hidden, dtype: ScalarType.Float64));
        var handValidation = hand;
        for (var i = 0; i < 3; i++)
        {
            var (x, xv) = (train.At(i), validation.At(i));
            var before = Values(model);
            tuner.Step(m => TokenLoss(trainState.Forward(m, x.Inputs), x.Targets), m => TokenLoss(validationState.Forward(m, xv.Inputs), xv.Targets));
            hand = ByHand(before, x.Inputs, hand.H, hand.C);
            handValidation = ByHand(Values(model), xv.Inputs, handValidation.H, handValidation.C);
            AssertState(trainState, hand, $"training state after window {i}");
            AssertState(validationState, handValidation, $"validation state after window {i}");
        }
        Assert.Equal(0, tuner.SkippedHypersteps);
        Assert.NotEqual(tuner.Initial["learningRate"].Value, tuner.Hyperparameters["learningRate"].Value);
    }

    static TrainingData Streams(out SequenceStreams train, out SequenceStreams validation, out SequenceStreams test)
    {
        var generator = new torch.Generator(9);
        train = new SequenceStreams(torch.randint(Vocabulary, [40], generator: generator), streams: 2, window: 3, vocabulary: Vocabulary);
        validation = new SequenceStreams(torch.randint(Vocabulary, [30], generator: generator), streams: 2, window: 3, vocabulary: Vocabulary);
        test = new SequenceStreams(torch.randint(Vocabulary, [26], generator: generator), streams: 2, window: 3, vocabulary: Vocabulary);
        return TrainingData.FromStreams(train, validation, test);
    }

    /// <summary>The mean loss per token over every window from the initial state, carried, in evaluation mode.</summary>
    static double OverAllWindows(nn.Module<Tensor, Tensor> model, SequenceStreams streams)
    {
        using var _ = torch.no_grad();
        model.eval();
        using var state = new CarriedState();
        var (total, tokens) = (0.0, 0L);
        foreach (var window in streams.InOrder())
        {
            total += TokenLoss(state.Forward(model, window.Inputs), window.Targets).item<double>() * window.Targets.numel();
            tokens += window.Targets.numel();
        }
        model.train();
        return total / tokens;
    }

    [Fact]
    public void A_run_on_token_streams_is_the_loop_that_carries_each_sets_state_through_its_windows_in_order()
    {
        var data = Streams(out var train, out var validation, out var test);
        // 20 steps over 7 windows: the training state starts again at each pass; 2 validation windows.
        var result = TuningRun.Of(() => new TinyLstm(), new SgdMomentum(0.5, 0.5, 1e-3), Loss.CrossEntropy)
            .On(data).WithSeed(5).InPrecision(ScalarType.Float64).Tune(Method.OnePass()).ForSteps(20).Run();

        torch.manual_seed(5);
        var model = new TinyLstm();
        using var tuner = Tuner.For(model, () => new TinyLstm(), new SgdMomentum(0.5, 0.5, 1e-3), Method.OnePass());
        using var trainState = new CarriedState();
        using var validationState = new CarriedState();
        var validationWindows = 0;
        for (var i = 0; i < 20; i++)
        {
            if (i > 0 && i % train.Windows == 0) trainState.Reset();
            var x = train.At(i % train.Windows);
            tuner.Step(m => TokenLoss(trainState.Forward(m, x.Inputs), x.Targets), m =>
            {
                var xv = validation.At(validationWindows++);
                return TokenLoss(validationState.Forward(m, xv.Inputs), xv.Targets);
            });
        }

        Assert.Equal(2, validationWindows);
        Assert.Equal(tuner.Hyperparameters["learningRate"].Value, result.FinalHyperparameters["learningRate"].Value, 1e-12);
        Assert.Equal(OverAllWindows(model, train), result.TrainLoss, 1e-12);
        Assert.Equal(OverAllWindows(model, validation), result.ValidationLoss, 1e-12);
        Assert.Equal(OverAllWindows(model, test), result.TestLoss!.Value, 1e-12);
    }

    [Fact]
    public void A_run_on_token_streams_resumes_exactly_with_both_carried_states()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"traintune-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var data = Streams(out _, out _, out _);
            // Checkpoints every 2 blocks of 2 steps: the training state is mid-pass at the break.
            TuningRun Of(string name) => TuningRun.Of(() => new TinyLstm(), new SgdMomentum(0.5, 0.5, 1e-3), Loss.CrossEntropy).On(data)
                .WithSeed(5).InPrecision(ScalarType.Float64).Tune(Method.OnePass(stepsPerHyperstep: 2)).ForSteps(16)
                .CheckpointTo(Path.Combine(folder, name + ".ckpt"), everyBlocks: 2);
            var uninterrupted = Of("whole").Run();
            (Of("parts") with { StopAfterBlocks = 2 }).Run();
            var resumed = Of("parts").ResumeFromCheckpoint().Run();
            Assert.Equal(uninterrupted.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
            Assert.Equal(uninterrupted.History.Select(h => h.ValidationLoss), resumed.History.Select(h => h.ValidationLoss));
            Assert.Equal(uninterrupted.TestLoss, resumed.TestLoss);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Methods_that_train_on_training_and_validation_data_take_the_validation_text_after_the_training_text()
    {
        var data = Streams(out var train, out var validation, out _);
        var run = ExperimentProtocol.Apply("Random", TuningRun.Of(() => new TinyLstm(), new SgdMomentum(), Loss.CrossEntropy).On(data).WithSeed(3));
        var joined = run.Data!.Streams!.Train;
        Assert.Equal(train.Streams, joined.Streams);
        Assert.Equal((train.Streams * train.Length + validation.Streams * validation.Length) / train.Streams, joined.Length);
        // Stream 0 starts with the training text; the last stream ends with the validation text's last tokens.
        Assert.Equal(train.At(0).Inputs[0].data<long>().ToArray(), joined.At(0).Inputs[0].data<long>().ToArray());
        var lastValidation = validation.At(validation.Windows - 1).Targets[validation.Streams - 1];
        var lastJoined = joined.At(joined.Windows - 1).Targets[joined.Streams - 1];
        Assert.Equal(lastValidation.data<long>().TakeLast(1).ToArray(), lastJoined.data<long>().TakeLast(1).ToArray());
        Assert.Same(validation, run.Data.Streams.Validation);
    }

    [Fact]
    public void A_run_on_token_streams_refuses_batch_sizes_and_populations()
    {
        var data = Streams(out _, out _, out _);
        var run = TuningRun.Of(() => new TinyLstm(), new Sgd(0.1), Loss.CrossEntropy).On(data).ForSteps(5);
        Assert.Contains("leave WithBatchSize out", Assert.Throws<TrainTuneException>(() => run.WithBatchSize(4).Run()).Message);
        Assert.StartsWith("The model TinyLstm cannot run as a population", Assert.Throws<TrainTuneException>(() => TuningRun.RunPopulation([run.WithSeed(1), run.WithSeed(2)])).Message);
    }

    [Fact]
    public void Streams_are_consecutive_pieces_and_windows_shift_targets_by_one()
    {
        var streams = new SequenceStreams(torch.arange(23L), streams: 3, window: 3);
        Assert.Equal(7, streams.Length);
        Assert.Equal(2, streams.Windows);
        var first = streams.At(0);
        Assert.Equal(new long[] { 0, 1, 2, 7, 8, 9, 14, 15, 16 }, first.Inputs.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 2, 3, 8, 9, 10, 15, 16, 17 }, first.Targets.data<long>().ToArray());
        var last = streams.At(1);
        Assert.Equal(new long[] { 3, 4, 5, 10, 11, 12, 17, 18, 19 }, last.Inputs.data<long>().ToArray());
        Assert.Equal(new long[] { 4, 5, 6, 11, 12, 13, 18, 19, 20 }, last.Targets.data<long>().ToArray());
    }

    [Fact]
    public void Bad_layouts_and_states_are_refused_saying_what_to_change()
    {
        var tokens = torch.arange(20L);
        Assert.Contains("the window length must be between 1 and 9", Assert.Throws<TrainTuneException>(() => new SequenceStreams(tokens, 2, 0)).Message);
        Assert.Contains("the window length must be between 1 and 9", Assert.Throws<TrainTuneException>(() => new SequenceStreams(tokens, 2, 10)).Message);
        Assert.Contains("Token 12 at position 12 is outside the vocabulary of 12", Assert.Throws<TrainTuneException>(() => new SequenceStreams(tokens, 2, 3, vocabulary: 12)).Message);
        Assert.Contains("Use fewer streams", Assert.Throws<TrainTuneException>(() => new SequenceStreams(tokens, 15, 1)).Message);

        torch.manual_seed(1);
        var model = new TinyLstm();
        using var state = new CarriedState();
        state.Forward(model, torch.zeros(2, 3, dtype: ScalarType.Int64));
        var error = Assert.Throws<TrainTuneException>(() => state.Forward(model, torch.zeros(3, 3, dtype: ScalarType.Int64)));
        Assert.StartsWith("The carried state's tensor 0 has shape [1, 2, 4], but a window of 3 streams needs [1, 3, 4] (dimension 1 differs)", error.Message);
        state.Reset();
        state.Forward(model, torch.zeros(3, 3, dtype: ScalarType.Int64));
        Assert.Contains("does not implement IRecurrentModel", Assert.Throws<TrainTuneException>(() => state.Forward(nn.Linear(3, 3), torch.zeros(2, 3))).Message);
    }
}
