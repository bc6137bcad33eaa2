using TorchSharp;
using TrainTune.Tests.Hypergradients;
using static TorchSharp.torch;

namespace TrainTune.Tests.Rules;

/// <summary>
/// Rules whose state can be exactly zero (docs/ALGORITHM.md, "Zero gradients"): an embedding
/// whose rows outside the training batches get gradients of exactly 0 (√v̂ = 0 there), and a
/// first gradient of zeros, which the learning-rate-free references skip.
/// </summary>
public class ZeroGradientTests
{
    const int Vocabulary = 10, UsedInTraining = 6;

    /// <summary>Embedding(10, 3) → mean over a row's 4 tokens → Linear(3, 1), float64.</summary>
    sealed class BagOfEmbeddings : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE1006 // RegisterComponents names the submodules after the fields
        readonly nn.Module<Tensor, Tensor> embedding, head;
#pragma warning restore IDE1006

        public BagOfEmbeddings() : base(nameof(BagOfEmbeddings))
        {
            embedding = nn.Embedding(Vocabulary, 3, dtype: ScalarType.Float64);
            head = nn.Linear(3, 1, dtype: ScalarType.Float64);
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens) => head.call(embedding.call(tokens).mean([1]));
    }

    /// <summary>Training rows use tokens 0–5 only; validation rows all 10.</summary>
    static (Split Train, Split Validation) Data()
    {
        var generator = new torch.Generator(5);
        Split Make(int rows, int tokens) => new(torch.randint(tokens, [rows, 4], generator: generator),
            torch.randn([rows, 1], dtype: ScalarType.Float64, generator: generator));
        return (Make(16, UsedInTraining), Make(8, Vocabulary));
    }

    static readonly Dictionary<string, Func<IWeightUpdate>> Rules = new()
    {
        ["AdamW"] = () => new AdamW(learningRate: 0.05, beta1: 0.8, beta2: 0.9, epsilon: 1e-3, weightDecay: 0.05),
        // L2 decay makes every row's direction non-zero, so Adam is checked with its decay negligible.
        ["Adam"] = () => new Adam(learningRate: 0.05, beta1: 0.8, beta2: 0.9, epsilon: 1e-3, weightDecay: 1e-10),
        ["DAdaptAdam"] = () => new DAdaptAdam(learningRate: 0.8, beta1: 0.8, beta2: 0.9, weightDecay: 0.02, d0: 1e-2, decoupled: true, epsilon: 1e-3),
        ["Prodigy"] = () => new Prodigy(learningRate: 100, beta1: 0.8, beta2: 0.9, dCoefficient: 0.7, weightDecay: 0.05, epsilon: 0.1),
        ["ScheduleFreeAdamW"] = () => new ScheduleFreeAdamW(learningRate: 0.03, beta1: 0.8, beta2: 0.9, weightDecay: 0.02, epsilon: 1e-3),
    };

    public static TheoryData<string, string> Cases() => new()
    {
        { "AdamW", "learningRate" }, { "AdamW", "beta1" }, { "AdamW", "beta2" }, { "AdamW", "epsilon" }, { "AdamW", "weightDecay" },
        { "Adam", "learningRate" }, { "Adam", "beta2" },
        { "DAdaptAdam", "learningRate" }, { "DAdaptAdam", "beta2" },
        { "Prodigy", "learningRate" }, { "Prodigy", "beta2" },
        { "ScheduleFreeAdamW", "learningRate" }, { "ScheduleFreeAdamW", "beta2" },
    };

    static Learner Prepared(Func<IWeightUpdate> rule, Split train)
    {
        torch.manual_seed(3);
        var learner = new Learner(new BagOfEmbeddings(), new BagOfEmbeddings(), rule(), Loss.MeanSquaredError);
        // As a tuning method does before the first step: the values come from the raw tensors the
        // hypergradient differentiates (held values are exact, and Schedule-Free's running maximum
        // of the learning rate would see a rounding step between the two).
        for (var h = 0; h < learner.Hyperparameters.Specs.Count; h++) learner.Hyperparameters.Track(h, "the test");
        for (var s = 0; s < 3; s++) learner.UntrackedStep(train);
        return learner;
    }

    static double ValidationLossAfterOneStep(Func<IWeightUpdate> rule, int hyperparameter, double delta)
    {
        var (train, validation) = Data();
        var learner = Prepared(rule, train);
        using (torch.no_grad())
            foreach (var raw in learner.Hyperparameters.Raw(hyperparameter)) raw.add_(delta);
        learner.BeginBlock();
        learner.UntrackedStep(train);
        return learner.EvaluateLoss(validation)[0];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_hypergradient_is_finite_and_right_when_embedding_rows_get_no_gradient(string rule, string name)
    {
        var factory = Rules[rule];
        var (train, validation) = Data();
        var learner = Prepared(factory, train);
        var h = learner.Hyperparameters.IndexOf(name);
        // The condition under test: rows 6–9 of the embedding get gradients of exactly 0.
        learner.UntrackedStep(train, out var gradients);
        Assert.True(gradients[0].narrow(0, UsedInTraining, Vocabulary - UsedInTraining).eq(0).all().item<bool>());
        learner = Prepared(factory, train);

        var result = learner.TrackedStep(train, validation, neumannTerms: 1, [h]);
        var actual = result.Hypergradient.Sum(g => g.sum().item<double>());

        const double delta = 1e-6;
        var expected = (ValidationLossAfterOneStep(factory, h, delta) - ValidationLossAfterOneStep(factory, h, -delta)) / (2 * delta);
        Assert.True(double.IsFinite(actual), $"{rule}.{name}: hypergradient {actual}");
        Assert.True(Math.Abs(expected) > 1e-8, $"{rule}.{name}: finite difference {expected} too small to check");
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-5, $"{rule}.{name}: runtime {actual}, finite differences {expected}");
    }

    [Fact]
    public void One_pass_tuning_of_AdamW_on_an_embedding_takes_every_hyper_step()
    {
        var (train, validation) = Data();
        var data = new TrainingData(train, validation, validation);
        var result = TuningRun.Of(() => new BagOfEmbeddings(), new AdamW(learningRate: 0.05), Loss.MeanSquaredError)
            .On(data).WithBatchSize(8).WithSeed(1).Tune(Method.OnePass()).ForSteps(100).Run();

        Assert.Equal(0, result.SkippedHypersteps);
        Assert.NotEqual(result.InitialHyperparameters["beta2"].Value, result.FinalHyperparameters["beta2"].Value);
        Assert.True(double.IsFinite(result.ValidationLoss));
    }

    /// <summary>Rules whose references skip a step with a gradient of zeros (Prodigy, D-Adaptation), and DoG, for which it changes nothing.</summary>
    public static TheoryData<string> SkippingRules() => ["Prodigy", "DAdaptAdam", "DAdaptSgd", "DoG"];

    static IWeightUpdate Skipping(string rule) => rule switch
    {
        "Prodigy" => new Prodigy(),
        "DAdaptAdam" => new DAdaptAdam(),
        "DAdaptSgd" => new DAdaptSgd(weightDecay: 0.02, momentum: 0.5),
        "DoG" => new DoG(),
        _ => throw new ArgumentOutOfRangeException(nameof(rule)),
    };

    [Theory]
    [MemberData(nameof(SkippingRules))]
    public void A_first_gradient_of_zeros_is_a_step_not_taken(string rule)
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var afterZeros = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), Skipping(rule), Loss.MeanSquaredError);
        torch.manual_seed(3);
        var plain = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), Skipping(rule), Loss.MeanSquaredError);
        var initial = TinyMlpProblem.Flatten(afterZeros.Weights);

        afterZeros.UntrackedStep(model => (model.call(problem.TrainInputs) * 0).sum(), out _);
        Assert.True(TinyMlpProblem.Flatten(afterZeros.Weights).eq(initial).all().item<bool>(), "a gradient of zeros moved the weights");

        for (var s = 0; s < 4; s++)
        {
            afterZeros.UntrackedStep(problem.Train);
            plain.UntrackedStep(problem.Train);
        }
        var moved = TinyMlpProblem.Flatten(afterZeros.Weights);
        Assert.True(moved.isfinite().all().item<bool>(), $"{rule}: weights not finite after a gradient of zeros");
        Assert.False(moved.eq(initial).all().item<bool>(), $"{rule}: the weights never moved");
        Assert.True((moved - TinyMlpProblem.Flatten(plain.Weights)).abs().max().item<double>() < 1e-14,
            $"{rule}: the steps after a gradient of zeros differ from the same steps without it");
    }
}
