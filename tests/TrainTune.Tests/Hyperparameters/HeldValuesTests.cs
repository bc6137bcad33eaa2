using TorchSharp;
using TrainTune.Tests.Hypergradients;
using TrainTune.Tests.Training;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hyperparameters;

/// <summary>
/// Zero is a value: momentum and weight decay held at 0 (torch.optim's defaults), tuned from 0 in a
/// transform that includes it, refused with what to do in one that does not; held values exact.
/// </summary>
public class HeldValuesTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-held-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    const double LearningRate = 0.05;

    [Fact]
    public void Momentum_and_weight_decay_held_at_zero_give_plain_gradient_steps()
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var model = TinyMlpProblem.Model();
        using var tuner = Tuner.For(model, TinyMlpProblem.Model, new SgdMomentum(LearningRate, momentum: 0, weightDecay: 0),
            Method.OnePass(stepsPerHyperstep: 3, tune: [SgdMomentum.LearningRate]));
        var w = TinyMlpProblem.Flatten(model.parameters());
        for (var step = 0; step < 7; step++)
        {
            var learningRate = tuner.Hyperparameters[SgdMomentum.LearningRate].Value;
            tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train), m => TinyMlpProblem.Mse(m, problem.Validation));
            // w − η∇L_T(w): no velocity from earlier steps, no decay.
            var leaf = w.requires_grad_(true);
            var gradient = torch.autograd.grad([problem.TrainLoss(leaf)], [leaf])[0];
            w = (w - learningRate * gradient).detach();
            Assert.Equal(0, (TinyMlpProblem.Flatten(model.parameters()) - w).abs().max().item<double>(), 12);
        }
        Assert.Equal(0, tuner.Hyperparameters[SgdMomentum.Momentum].Value);
        Assert.Equal(0, tuner.Hyperparameters[SgdMomentum.WeightDecay].Value);
        // The learning rate was tuned meanwhile, and no hyper step was skipped.
        Assert.NotEqual(LearningRate, tuner.Hyperparameters[SgdMomentum.LearningRate].Value);
        Assert.Equal(0, tuner.SkippedHypersteps);
    }

    [Fact]
    public void A_run_holds_zero_momentum_and_weight_decay_to_the_end()
    {
        var result = TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-2, momentum: 0, weightDecay: 0), Loss.MeanSquaredError).On(Tasks.Regression())
            .Tune(Method.OnePass(tune: [SgdMomentum.LearningRate])).ForSteps(40).WithSeed(1).Run();
        Assert.Null(result.DivergedAtStep);
        Assert.Equal(0, result.FinalHyperparameters[SgdMomentum.Momentum].Value);
        Assert.Equal(0, result.FinalHyperparameters[SgdMomentum.WeightDecay].Value);
        Assert.All(result.History, block => Assert.False(block.HyperstepSkipped));
    }

    [Theory]
    [InlineData("momentum")]
    [InlineData("weightDecay")]
    public void Tuning_from_zero_in_a_transform_without_it_is_refused_saying_what_to_do(string name)
    {
        var rule = new SgdMomentum(1e-2, momentum: name == "momentum" ? 0 : 0.5, weightDecay: name == "weightDecay" ? 0 : 1e-4);
        var error = Assert.Throws<TrainTuneException>(() =>
            TuningRun.Of(Tasks.Mlp, rule, Loss.MeanSquaredError).On(Tasks.Regression()).Tune(Method.OnePass()).ForSteps(20).Run());
        Assert.Contains($"OnePass cannot tune '{name}' from 0", error.Message);
        Assert.Contains("Hold it at 0", error.Message);
        Assert.Contains($"rule.SetTransform(\"{name}\", Transform.Identity)", error.Message);
        var model = Tasks.Mlp();
        Assert.Throws<TrainTuneException>(() => Tuner.For(model, Tasks.Mlp, rule, Method.DiffThroughOpt()));
    }

    [Fact]
    public void Momentum_tuned_from_zero_in_identity_space_has_the_finite_difference_hypergradient()
    {
        const double weightDecay = 0.02;
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var rule = new SgdMomentum(LearningRate, momentum: 0, weightDecay: weightDecay);
        rule.SetTransform(SgdMomentum.Momentum, Transform.Identity);
        rule.SetBounds(SgdMomentum.Momentum, 0, 0.99);
        using var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), rule, Loss.MeanSquaredError);
        // Two plain steps, reproduced by hand: with μ = 0 the velocity is the last direction d = g + ξw.
        var w = TinyMlpProblem.Flatten(learner.Weights);
        Tensor? velocity = null;
        for (var step = 0; step < 2; step++)
        {
            learner.UntrackedStep(problem.Train);
            var leaf = w.requires_grad_(true);
            velocity = (torch.autograd.grad([problem.TrainLoss(leaf)], [leaf])[0] + weightDecay * w).detach();
            w = (w - LearningRate * velocity).detach();
        }
        Assert.Equal(0, (TinyMlpProblem.Flatten(learner.Weights) - w).abs().max().item<double>(), 12);

        var actual = learner.TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [1]).Hypergradient[0].item<double>();

        // One Neumann term: the exact derivative of L_V(w − η(μb + g + ξw)) in μ at μ = 0 (u is linear in μ, so a central difference is exact but for rounding).
        double Objective(double momentum)
        {
            var leaf = w.detach().requires_grad_(true);
            var gradient = torch.autograd.grad([problem.TrainLoss(leaf)], [leaf])[0];
            using var _ = torch.no_grad();
            return problem.ValidationLoss(w - LearningRate * (momentum * velocity! + gradient + weightDecay * w)).item<double>();
        }
        const double h = 1e-5;
        var expected = (Objective(h) - Objective(-h)) / (2 * h);
        Assert.True(Math.Abs(expected) > 1e-6, $"the finite difference {expected} is too small to check anything");
        Assert.True(TinyMlpProblem.RelativeError(actual, expected) < 1e-6, $"runtime {actual}, finite differences {expected}");
    }

    [Fact]
    public void A_momentum_tuned_from_zero_in_identity_space_moves_within_its_bounds()
    {
        var rule = new SgdMomentum(1e-2, momentum: 0, weightDecay: 0);
        rule.SetTransform(SgdMomentum.Momentum, Transform.Identity);
        rule.SetBounds(SgdMomentum.Momentum, 0, 0.99);
        var result = TuningRun.Of(Tasks.Mlp, rule, Loss.MeanSquaredError).On(Tasks.Regression())
            .Tune(Method.OnePass(tune: [SgdMomentum.LearningRate, SgdMomentum.Momentum])).ForSteps(100).WithSeed(1).Run();
        Assert.All(result.History, block => Assert.False(block.HyperstepSkipped));
        Assert.All(result.History, block => Assert.InRange(block.Hyperparameters[SgdMomentum.Momentum].Value, 0, 0.99));
        Assert.Contains(result.History, block => block.Hyperparameters[SgdMomentum.Momentum].Value > 0);
    }

    [Fact]
    public void A_setting_held_unless_named_is_left_alone_by_a_method_told_to_tune_everything()
    {
        TuningRun Run(Method method) => TuningRun.Of(Tasks.Mlp, new DAdaptAdam(), Loss.MeanSquaredError).On(Tasks.Regression()).Tune(method).ForSteps(40).WithSeed(1);
        var all = Run(Method.OnePass()).Run();
        Assert.Equal(1, all.FinalHyperparameters[DAdaptAdam.LayerScale].Value);
        Assert.NotEqual(1, all.FinalHyperparameters[DAdaptAdam.LearningRate].Value);
        // Named, it is tuned like any other.
        var named = Run(Method.OnePass(tune: [DAdaptAdam.LayerScale])).Run();
        Assert.NotEqual(1, named.FinalHyperparameters[DAdaptAdam.LayerScale].Value);
    }

    [Fact]
    public void Held_values_are_the_exact_numbers_given_and_tuned_ones_come_from_their_transform()
    {
        var specs = new[] { new HyperparameterSpec("beta", 0.9, Transform.Logit), new HyperparameterSpec("rate", 1e-3, Transform.Log10) };
        using var set = new HyperparameterSet(specs, [[3]], ScalarType.Float64, torch.CPU);
        Assert.Equal(0.9, set.Values()[0][0].item<double>());
        Assert.Equal(1e-3, set.Values()[1][0].item<double>());
        Assert.Equal(0.9, set.Snapshot(["w"])["beta"].Value);

        set.Track(0, "a test");
        Assert.False(set.IsHeld(0));
        // Now a function of the raw value, as the hypergradient needs: sigmoid(logit(0.9)) up to rounding.
        Assert.True(set.Values()[0][0].requires_grad);
        Assert.Equal(0.9, set.Values()[0][0].item<double>(), 15);
        Assert.True(set.IsHeld(1));
    }

    [Fact]
    public void Set_changes_the_next_steps_and_the_block_record_says_so()
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var model = TinyMlpProblem.Model();
        using var tuner = Tuner.For(model, TinyMlpProblem.Model, new Sgd(LearningRate), Method.Fixed(stepsPerBlock: 4));
        for (var step = 0; step < 5; step++) tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train));
        tuner.Set(SgdMomentum.LearningRate, 0.01);
        Assert.Equal(0.01, tuner.Hyperparameters[SgdMomentum.LearningRate].Value);
        var w = TinyMlpProblem.Flatten(model.parameters()).requires_grad_(true);
        var gradient = torch.autograd.grad([problem.TrainLoss(w)], [w])[0];
        tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train));
        Assert.Equal(0, (TinyMlpProblem.Flatten(model.parameters()) - (w - 0.01 * gradient)).abs().max().item<double>(), 12);
        for (var step = 0; step < 2; step++) tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train), m => TinyMlpProblem.Mse(m, problem.Validation));

        Assert.Equal([4, 8], tuner.History.Select(b => b.Step));
        Assert.Empty(tuner.History[0].Set);
        Assert.Equal(0.01, tuner.History[1].Set[SgdMomentum.LearningRate]);
        Assert.Equal(0.01, tuner.History[1].Hyperparameters[SgdMomentum.LearningRate].Value);
    }

    [Fact]
    public void A_tuned_hyperparameter_set_by_the_loop_is_tuned_on_from_its_new_value()
    {
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var model = TinyMlpProblem.Model();
        using var tuner = Tuner.For(model, TinyMlpProblem.Model, new Sgd(LearningRate), Method.OnePass(stepsPerHyperstep: 2));
        for (var step = 0; step < 4; step++) tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train), m => TinyMlpProblem.Mse(m, problem.Validation));
        tuner.Set(SgdMomentum.LearningRate, 0.01);
        Assert.Equal(0.01, tuner.Hyperparameters[SgdMomentum.LearningRate].Value, 15);
        for (var step = 0; step < 2; step++) tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train), m => TinyMlpProblem.Mse(m, problem.Validation));
        Assert.NotEqual(0.01, tuner.Hyperparameters[SgdMomentum.LearningRate].Value);
        Assert.InRange(tuner.Hyperparameters[SgdMomentum.LearningRate].Value, 0.01 * 0.5, 0.01 * 2);
    }

    [Fact]
    public void Set_refuses_bad_values_saying_what_to_change_and_changes_nothing()
    {
        var model = Tasks.Mlp();
        using var tuner = Tuner.For(model, Tasks.Mlp, new SgdMomentum(1e-2, 0.5, 1e-4), Method.OnePass(tune: [SgdMomentum.LearningRate]));
        var above = Assert.Throws<TrainTuneException>(() => tuner.Set(SgdMomentum.LearningRate, 20));
        Assert.Contains("outside its bounds", above.Message);
        Assert.Contains("rule.SetBounds(\"learningRate\", min, max)", above.Message);
        var unknown = Assert.Throws<TrainTuneException>(() => tuner.Set("lr", 0.1));
        Assert.Contains("no hyperparameter named 'lr'; it has learningRate, momentum, weightDecay", unknown.Message);
        var notANumber = Assert.Throws<TrainTuneException>(() => tuner.Set(SgdMomentum.Momentum, double.NaN));
        Assert.Contains("not a finite number", notANumber.Message);
        Assert.Equal(1e-2, tuner.Hyperparameters[SgdMomentum.LearningRate].Value, 8);
        Assert.Equal(0.5, tuner.Hyperparameters[SgdMomentum.Momentum].Value);
        // A held momentum may be set to 0; a tuned learning rate may not reach its log10 limit.
        tuner.Set(SgdMomentum.Momentum, 0);
        Assert.Equal(0, tuner.Hyperparameters[SgdMomentum.Momentum].Value);
    }

    [Fact]
    public void A_saved_tuner_keeps_held_values_exactly()
    {
        var path = Path.Combine(_folder, "tuner.pt");
        var problem = new TinyMlpProblem();
        var model = TinyMlpProblem.Model();
        using (var tuner = Tuner.For(model, TinyMlpProblem.Model, new Adam(1e-3, beta1: 0.9), Method.Fixed()))
        {
            tuner.Set("weightDecay", 0);
            for (var step = 0; step < 3; step++) tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train));
            tuner.Save(path);
        }
        using var resumed = Tuner.For(model, TinyMlpProblem.Model, new Adam(1e-3, beta1: 0.9), Method.Fixed());
        resumed.Load(path);
        Assert.Equal(0, resumed.Hyperparameters["weightDecay"].Value);
        Assert.Equal(0.9, resumed.Hyperparameters["beta1"].Value);
    }

    [Fact]
    public void A_tuner_state_of_another_rule_is_refused_naming_both_rules()
    {
        var path = Path.Combine(_folder, "tuner.pt");
        var problem = new TinyMlpProblem();
        var model = TinyMlpProblem.Model();
        using (var tuner = Tuner.For(model, TinyMlpProblem.Model, new AdamW(), Method.Fixed()))
        {
            for (var step = 0; step < 3; step++) tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train));
            tuner.Save(path);
        }
        // Adam and AdamW have the same hyperparameter and state names: only the rule tells them apart.
        using var other = Tuner.For(model, TinyMlpProblem.Model, new Adam(), Method.Fixed());
        var error = Assert.Throws<TrainTuneException>(() => other.Load(path));
        Assert.Contains("the rule TrainTune.AdamW, but this run's rule is TrainTune.Adam", error.Message);
        Assert.Equal(0, other.Steps);
    }
}
