using TorchSharp;
using TrainTune.Tests.Hypergradients;
using static TorchSharp.torch;

namespace TrainTune.Tests.Rules;

/// <summary>
/// For any rule: the one-tracked-step hypergradient (one Neumann term) is the derivative of
/// L_V after one step with respect to a raw hyperparameter; central finite differences of that
/// step, taken through the untracked path, must agree.
/// </summary>
public class RuleHypergradientTests
{
    const int StepsBefore = 3;

    static Learner Prepared(Func<IWeightUpdate> rule, TinyMlpProblem problem)
    {
        torch.manual_seed(3);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), rule(), Loss.MeanSquaredError);
        // As a tuning method does before the first step: the values come from the raw tensors the
        // hypergradient differentiates (held values are exact, and Schedule-Free's running maximum
        // of the learning rate would see a rounding step between the two).
        for (var h = 0; h < learner.Hyperparameters.Specs.Count; h++) learner.Hyperparameters.Track(h, "the test");
        for (var s = 0; s < StepsBefore; s++) learner.UntrackedStep(problem.Train);
        return learner;
    }

    static double ValidationLossAfterOneStep(Func<IWeightUpdate> rule, TinyMlpProblem problem, int hyperparameter, double delta)
    {
        var learner = Prepared(rule, problem);
        using (torch.no_grad())
            foreach (var raw in learner.Hyperparameters.Raw(hyperparameter)) raw.add_(delta);
        learner.BeginBlock();
        learner.UntrackedStep(problem.Train);
        return learner.EvaluateLoss(problem.Validation)[0];
    }

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var (name, factory) in Rules)
            for (var h = 0; h < factory().Hyperparameters.Count; h++) data.Add(name, h);
        return data;
    }

    static readonly Dictionary<string, Func<IWeightUpdate>> Rules = new()
    {
        ["Sgd"] = () => new Sgd(learningRate: 0.05),
        ["SgdPerWeight"] = () => new Sgd(learningRate: 0.05, perWeightLearningRate: true),
        ["Adam"] = () => new Adam(learningRate: 0.02, beta1: 0.8, beta2: 0.9, epsilon: 1e-3, weightDecay: 0.01),
        ["AdamW"] = () => new AdamW(learningRate: 0.02, beta1: 0.8, beta2: 0.9, epsilon: 1e-3, weightDecay: 0.05),
        ["AdamPerWeight"] = () => new Adam(learningRate: 0.02, beta1: 0.8, beta2: 0.9, epsilon: 1e-3, weightDecay: 0.01, perWeightLearningRate: true),
        ["Nesterov"] = () => { var r = new NesterovSgd(); r.SetInitial("learningRate", 0.05); r.SetInitial("weightDecay", 0.02); return r; },
        // The learning-rate-free rules, weight decay on so that its hypergradient is not zero.
        // d_coef reaches Prodigy's update only through the new d in √v + d ε: a large ε, and a
        // large λ so that d grows at the step checked (otherwise that derivative is exactly 0).
        ["DoG"] = () => new DoG(learningRate: 0.8, weightDecay: 0.02, relativeInitialDistance: 1e-2),
        ["ProdigySliced"] = () => new Prodigy(learningRate: 100, beta1: 0.8, beta2: 0.9, dCoefficient: 0.7, weightDecay: 0.05, epsilon: 0.1, sliceP: 2, biasCorrection: true),
        ["LDoG"] = () => new DoG(learningRate: 0.8, weightDecay: 0.02, relativeInitialDistance: 1e-2, layerWise: true),
        // Validation losses at the polynomial-decay average: the hypergradient goes through it.
        ["DoGAveraged"] = () => new DoG(learningRate: 0.8, weightDecay: 0.02, relativeInitialDistance: 1e-2, averaging: 8),
        ["DAdaptSgd"] = () => new DAdaptSgd(learningRate: 0.8, weightDecay: 0.02, momentum: 0.5, d0: 1e-2),
        ["DAdaptAdam"] = () => new DAdaptAdam(learningRate: 0.8, beta1: 0.8, beta2: 0.9, weightDecay: 0.02, d0: 1e-2),
        ["Prodigy"] = () => new Prodigy(learningRate: 100, beta1: 0.8, beta2: 0.9, dCoefficient: 0.7, weightDecay: 0.05, epsilon: 0.1),
        ["ScheduleFreeSgd"] = () => new ScheduleFreeSgd(learningRate: 0.2, momentum: 0.8, weightDecay: 0.02, warmupSteps: 6),
        ["ScheduleFreeAdamW"] = () => new ScheduleFreeAdamW(learningRate: 0.03, beta1: 0.8, beta2: 0.9, weightDecay: 0.02),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_step_hypergradient_matches_finite_differences(string rule, int hyperparameter)
    {
        var problem = new TinyMlpProblem();
        var factory = Rules[rule];
        var name = factory().Hyperparameters[hyperparameter].Name;
        var learner = Prepared(factory, problem);
        var result = learner.TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [hyperparameter]);
        // A per-weight hyperparameter moved as a whole: the derivative is the sum over its elements.
        var actual = result.Hypergradient.Sum(g => g.sum().item<double>());

        const double h = 1e-6;
        var expected = (ValidationLossAfterOneStep(factory, problem, hyperparameter, h) - ValidationLossAfterOneStep(factory, problem, hyperparameter, -h)) / (2 * h);
        Assert.True(Math.Abs(expected) > 1e-8, $"{rule}.{name}: finite difference {expected} too small to check");
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-5, $"{rule}.{name}: runtime {actual}, finite differences {expected}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adam_and_AdamW_steps_match_torch_optim(bool decoupled)
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        IWeightUpdate rule = decoupled ? new AdamW(0.01, 0.85, 0.95, 1e-6, 0.1) : new Adam(0.01, 0.85, 0.95, 1e-6, 0.1);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), rule, Loss.MeanSquaredError);
        torch.manual_seed(3);
        var reference = TinyMlpProblem.Model();
        var parameters = reference.parameters().ToArray();
        torch.optim.Optimizer optimizer = decoupled
            ? torch.optim.AdamW(parameters, lr: 0.01, beta1: 0.85, beta2: 0.95, eps: 1e-6, weight_decay: 0.1)
            : torch.optim.Adam(parameters, lr: 0.01, beta1: 0.85, beta2: 0.95, eps: 1e-6, weight_decay: 0.1);
        for (var step = 0; step < 6; step++)
        {
            learner.UntrackedStep(problem.Train);
            optimizer.zero_grad();
            TinyMlpProblem.Mse(reference.call(problem.TrainInputs), problem.TrainTargets).backward();
            optimizer.step();
        }
        for (var k = 0; k < parameters.Length; k++)
            Assert.True((learner.Weights[k] - parameters[k]).abs().max().item<double>() < 1e-12, $"weight {k} differs from torch.optim");
    }

    [Fact]
    public void A_user_written_rule_is_tuned_by_the_one_pass_method()
    {
        var run = TuningRun.Of(Training.Tasks.Mlp, new NesterovSgd(), Loss.MeanSquaredError)
            .On(Training.Tasks.Regression()).ForSteps(1000).WithSeed(2);
        var tuned = run.Tune(Method.OnePass()).Run();
        var untuned = run.Tune(Method.Fixed()).Run();

        Assert.False(tuned.Diverged);
        Assert.Equal(["learningRate", "momentum", "weightDecay"], tuned.FinalHyperparameters.Keys);
        foreach (var (name, initial) in tuned.InitialHyperparameters)
            Assert.True(Math.Abs(Math.Log(tuned.FinalHyperparameters[name].Value / initial.Value)) > 0.05, $"{name} did not move: {initial.Value} -> {tuned.FinalHyperparameters[name].Value}");
        Assert.True(tuned.History[^1].ValidationLoss < 0.5 * tuned.History[0].ValidationLoss, "validation loss should drop");
        Assert.True(tuned.ValidationLoss < untuned.ValidationLoss, $"tuned {tuned.ValidationLoss}, fixed {untuned.ValidationLoss}");
    }
}
