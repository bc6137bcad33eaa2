namespace TrainTune.Tests.SourceGeneration;

/// <summary>User code the generator tests compile: valid cases, one per generated shape.</summary>
internal static class UserSources
{
    public const string Usings = """
        using TrainTune;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        """;

    public const string ScalarRule = Usings + """
        namespace Samples;

        /// <summary>Sign-SGD with a tunable step.</summary>
        [WeightUpdate]
        public partial class SignSgd
        {
            /// <summary>Step size of every weight.</summary>
            [Hyperparameter(Initial = 1e-3, Transform = Transform.Log10, Min = 1e-8, Max = 1)]
            private Tensor scale;

            private Tensor Step(Tensor weight, Tensor grad) => scale * grad.sign();
        }
        """;

    public const string PerWeightRule = Usings + """
        namespace Samples;

        [WeightUpdate]
        public partial class PerWeightSgd
        {
            /// One learning rate per weight.
            [Hyperparameter(Initial = 0.01, Transform = Transform.Log10, Min = 1e-10, Max = 1, PerWeight = true)]
            private Tensor learningRate;

            private Tensor Step(Tensor weight, Tensor grad) => learningRate * grad;
        }
        """;

    public const string TwoStateRule = Usings + """
        namespace Samples;

        [WeightUpdate]
        public partial class RmsPropMomentum
        {
            [Hyperparameter(Initial = 1e-3, Transform = Transform.Log10)]
            private Tensor learningRate;

            [Hyperparameter(Initial = 0.99, Transform = Transform.Logit)]
            private Tensor alpha;

            [Hyperparameter(Initial = 0.9, Transform = Transform.Logit)]
            private Tensor momentum;

            private Tensor Step(Tensor weight, Tensor grad, ref Tensor? squareAverage, ref Tensor? buffer)
            {
                squareAverage = squareAverage is null ? (1 - alpha) * grad * grad : alpha * squareAverage + (1 - alpha) * grad * grad;
                var direction = grad / (squareAverage.sqrt() + 1e-8);
                buffer = buffer is null ? direction : momentum * buffer + direction;
                return learningRate * buffer;
            }
        }
        """;

    public const string TunableModel = Usings + """
        namespace Samples;

        [TunableModel]
        public partial class TemperedLinear : nn.Module<Tensor, Tensor>
        {
            /// <summary>Temperature that divides the logits.</summary>
            [Hyperparameter(Initial = 1.0, Transform = Transform.Log10, Min = 0.01, Max = 100)]
            private Tensor temperature;

            private readonly Linear layer = nn.Linear(4, 2);

            public TemperedLinear() : base(nameof(TemperedLinear)) => RegisterComponents();

            public override Tensor forward(Tensor input) => layer.call(input) / temperature;
        }
        """;

    public const string TrainingTargets = Usings + """
        namespace Samples;

        public static class Targets
        {
            [TrainingTarget]
            public static TuningRun Energy() => TuningRun.Of(() => nn.Linear(8, 1), new SgdMomentum(), Loss.MeanSquaredError);

            [TrainingTarget(Name = "Power")]
            internal static TuningRun PowerPlant() => TuningRun.Of(() => nn.Linear(4, 1), new SgdMomentum(), Loss.MeanSquaredError).ForSteps(4000);
        }
        """;

    public const string NamespacedAndNested = Usings + """
        namespace Outer.Inner
        {
            public static partial class Holder
            {
                [WeightUpdate]
                internal sealed partial class Nested
                {
                    [Hyperparameter(Initial = 0.1, Transform = Transform.Identity, Min = 0, Max = 1)]
                    private Tensor step;

                    private Tensor Step(Tensor weight, Tensor grad) => step * grad;
                }
            }
        }

        [WeightUpdate]
        public partial class GlobalRule
        {
            [Hyperparameter(Initial = 0.5, Transform = Transform.Logit)]
            private Tensor fraction;

            private Tensor Step(Tensor weight, Tensor grad) => fraction * grad;
        }
        """;

    public static readonly IReadOnlyDictionary<string, string> Valid = new Dictionary<string, string>
    {
        [nameof(ScalarRule)] = ScalarRule,
        [nameof(PerWeightRule)] = PerWeightRule,
        [nameof(TwoStateRule)] = TwoStateRule,
        [nameof(TunableModel)] = TunableModel,
        [nameof(TrainingTargets)] = TrainingTargets,
        [nameof(NamespacedAndNested)] = NamespacedAndNested,
    };
}
