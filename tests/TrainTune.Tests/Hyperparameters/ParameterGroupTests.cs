using System.Text.Json;
using TorchSharp;
using TrainTune.Tests.Hypergradients;
using TrainTune.Tests.Training;
using static TorchSharp.torch;

namespace TrainTune.Tests.Hyperparameters;

/// <summary>Parameter groups: values of their own per group, held or tuned per group, hypergradients per group.</summary>
public class ParameterGroupTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-groups-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // The tiny MLP's parameters: 0.weight [3, 2], 0.bias [3], 2.weight [1, 3], 2.bias [1].
    static readonly ParameterGroup[] Layers = [ParameterGroup.Matching("first", "0.*"), ParameterGroup.Rest("second")];

    static Learner Prepared(TinyMlpProblem problem, IReadOnlyCollection<string>? perGroup)
    {
        torch.manual_seed(3);
        var learner = new Learner(TinyMlpProblem.Model(), TinyMlpProblem.Model(), new SgdMomentum(0.05, 0.6, 0.02), Loss.MeanSquaredError,
            groups: perGroup is null ? null : Layers, perGroup: perGroup);
        for (var h = 0; h < learner.Hyperparameters.Specs.Count; h++) learner.Hyperparameters.Track(h, "the test");
        for (var s = 0; s < 3; s++) learner.UntrackedStep(problem.Train);
        return learner;
    }

    [Theory]
    [InlineData(0, "log10 learning rate")]
    [InlineData(1, "logit momentum")]
    [InlineData(2, "log10 weight decay")]
    public void Each_groups_hypergradient_matches_finite_differences_and_they_sum_to_the_shared_one(int hyperparameter, string what)
    {
        var problem = new TinyMlpProblem();
        var name = new SgdMomentum().Hyperparameters[hyperparameter].Name;
        var perGroup = Prepared(problem, [name]).TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [hyperparameter]).Hypergradient
            .Select(g => g.item<double>()).ToArray();
        Assert.Equal(2, perGroup.Length);
        for (var group = 0; group < 2; group++)
        {
            double Objective(double delta) => problem.ValidationLossAfterStep(Prepared(problem, [name]), hyperparameter, delta, slot: group);
            const double h = 1e-6;
            var expected = (Objective(h) - Objective(-h)) / (2 * h);
            Assert.True(Math.Abs(expected) > 1e-8, $"{what}, group {group}: the finite difference {expected} is too small to check anything");
            Assert.True(TinyMlpProblem.RelativeError(perGroup[group], expected) < 1e-5, $"{what}, group {group}: runtime {perGroup[group]}, finite differences {expected}");
        }
        var shared = Prepared(problem, null).TrackedStep(problem.Train, problem.Validation, neumannTerms: 1, [hyperparameter]).Hypergradient.Single().item<double>();
        Assert.True(TinyMlpProblem.RelativeError(perGroup.Sum(), shared) < 1e-10, $"{what}: groups {perGroup[0]} + {perGroup[1]}, shared {shared}");
    }

    [Fact]
    public void No_weight_decay_on_biases_is_one_line_and_gives_the_steps_computed_by_hand()
    {
        const double learningRate = 0.1, weightDecay = 0.5;
        var problem = new TinyMlpProblem();
        torch.manual_seed(3);
        var model = TinyMlpProblem.Model();
        using var tuner = Tuner.For(model, TinyMlpProblem.Model, new SgdMomentum(learningRate, momentum: 0, weightDecay: weightDecay), Method.Fixed(),
            groups: ParameterGroup.NoWeightDecayOnBiasesAndNorms());
        // Decay on the two weight matrices only: elements 0–5 (0.weight) and 9–11 (2.weight) of the flat vector.
        var decays = torch.zeros(TinyMlpProblem.WeightCount, dtype: ScalarType.Float64);
        decays[TensorIndex.Slice(0, 6)] = weightDecay;
        decays[TensorIndex.Slice(9, 12)] = weightDecay;
        var w = TinyMlpProblem.Flatten(model.parameters());
        for (var t = 0; t < 4; t++)
        {
            tuner.Step(m => TinyMlpProblem.Mse(m, problem.Train));
            var leaf = w.requires_grad_(true);
            var gradient = torch.autograd.grad([problem.TrainLoss(leaf)], [leaf])[0];
            w = (w - learningRate * (gradient + decays * w)).detach();
            Assert.Equal(0, (TinyMlpProblem.Flatten(model.parameters()) - w).abs().max().item<double>(), 12);
        }
        var reported = tuner.Hyperparameters["weightDecay"];
        Assert.Equal(0.5, reported.PerGroup!["decay"].Value);
        Assert.Equal(0, reported.PerGroup!["no_decay"].Value);
        // The mean over all 13 weights: 9 decayed at 0.5, 4 at 0.
        Assert.Equal(9 * 0.5 / 13, reported.Value, 12);
    }

    [Fact]
    public void A_run_tunes_one_learning_rate_per_group_and_every_output_names_the_groups()
    {
        var record = Path.Combine(_folder, "record.jsonl");
        var board = Path.Combine(_folder, "board");
        var result = TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-2, 0.5, 1e-4), Loss.MeanSquaredError).On(Tasks.Regression())
            .WithGroups(ParameterGroup.Under("hidden", "hidden"), ParameterGroup.Rest("output").StartingFrom(new Dictionary<string, double> { ["learningRate"] = 3e-2 }))
            .WithPerGroup("learningRate").Tune(Method.OnePass()).ForSteps(200).WithSeed(2).RecordTo(record).LogToTensorBoard(board).Run();
        var learningRate = result.FinalHyperparameters["learningRate"];
        Assert.Equal(["hidden", "output"], learningRate.PerGroup!.Keys.Order());
        Assert.Equal(3e-2, result.InitialHyperparameters["learningRate"].PerGroup!["output"].Value, 8);
        Assert.NotEqual(learningRate.PerGroup["hidden"].Value, learningRate.PerGroup["output"].Value);
        Assert.All(result.History, b => Assert.False(b.HyperstepSkipped));
        // Shared, not per group: momentum and weight decay have one value each.
        Assert.Null(result.FinalHyperparameters["momentum"].PerGroup);
        var last = File.ReadLines(record).Select(l => JsonDocument.Parse(l).RootElement).Last(l => l.GetProperty("event").GetString() == "block");
        var perGroup = last.GetProperty("hyperparameters").GetProperty("learningRate").GetProperty("per_group");
        Assert.Equal(learningRate.PerGroup["output"].Value, perGroup.GetProperty("output").GetDouble(), 12);
        Assert.NotEmpty(Directory.GetFiles(board, "*tfevents*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Per_weight_keeps_its_meaning_each_weight_starting_from_its_groups_value()
    {
        var model = TinyMlpProblem.Model();
        using var tuner = Tuner.For(model, TinyMlpProblem.Model, new SgdMomentum(0.05, 0.6, 0.02, perWeightLearningRate: true), Method.Fixed(),
            groups: [ParameterGroup.Matching("first", "0.*").StartingFrom(new Dictionary<string, double> { ["learningRate"] = 0.01 }), ParameterGroup.Rest("second")]);
        var learningRate = tuner.Hyperparameters["learningRate"];
        Assert.NotNull(learningRate.PerTensor);
        Assert.Equal(0.01, learningRate.PerTensor!["0.weight"].Value, 15);
        Assert.Equal(0.01, learningRate.PerTensor["0.bias"].Max, 15);
        Assert.Equal(0.05, learningRate.PerTensor["2.weight"].Value, 15);
        // Over all 13 elements: 9 at 0.01, 4 at 0.05.
        Assert.Equal((9 * 0.01 + 4 * 0.05) / 13, learningRate.Value, 15);
    }

    [Fact]
    public void A_grouped_run_resumes_exactly()
    {
        TuningRun Run(string name) =>
            TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-2, 0.5, 1e-4), Loss.MeanSquaredError).On(Tasks.Regression()).Tune(Method.OnePass())
                .WithGroups(ParameterGroup.NoWeightDecayOnBiasesAndNorms()).WithPerGroup("learningRate")
                .ForSteps(200).WithBatchSize(32).WithSeed(3).CheckpointTo(Path.Combine(_folder, name + ".ckpt"), everyBlocks: 4);
        var uninterrupted = Run("whole").Run();
        (Run("parts") with { StopAfterBlocks = 9 }).Run();
        var resumed = Run("parts").ResumeFromCheckpoint().Run();
        Assert.Equal(uninterrupted.ValidationLoss, resumed.ValidationLoss);
        Assert.Equal(JsonSerializer.Serialize(uninterrupted.FinalHyperparameters), JsonSerializer.Serialize(resumed.FinalHyperparameters));
        Assert.Equal(0, resumed.FinalHyperparameters["weightDecay"].PerGroup!["no_decay"].Value);
    }

    [Fact]
    public void Bad_groups_are_refused_naming_the_group_or_parameter_before_anything_is_written()
    {
        var record = Path.Combine(_folder, "bad.jsonl");
        TrainTuneException Fails(params ParameterGroup[] groups) => Assert.Throws<TrainTuneException>(() =>
            TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20).WithGroups(groups).RecordTo(record).Run());
        Assert.Contains("The parameter 'hidden.bias' is in two parameter groups, 'biases' (the patterns *.bias) and 'hidden' (the submodule hidden)",
            Fails(ParameterGroup.Matching("biases", "*.bias"), ParameterGroup.Under("hidden", "hidden"), ParameterGroup.Rest()).Message);
        Assert.Contains("The parameter 'output.weight' is in no parameter group", Fails(ParameterGroup.Matching("biases", "*.bias"), ParameterGroup.Matching("hidden", "hidden.weight")).Message);
        Assert.Contains("The parameter group 'norms' (the patterns *norm*) holds no trainable parameter", Fails(ParameterGroup.Matching("norms", "*norm*"), ParameterGroup.Rest()).Message);
        Assert.Contains("Parameter group 'rest' sets 'lr', which the rule does not have", Fails(ParameterGroup.Rest().Holding("lr", 0)).Message);
        Assert.Contains("Parameter group 'rest': Hyperparameter 'learningRate': initial value 5 lies outside its bounds",
            Fails(ParameterGroup.Rest().StartingFrom(new Dictionary<string, double> { ["learningRate"] = 5 })).Message);
        Assert.False(File.Exists(record));
        Assert.Contains("cannot be tuned per group: the run has no parameter groups", Assert.Throws<TrainTuneException>(() =>
            TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20).WithPerGroup("learningRate").Run()).Message);
        Assert.Contains("OnePass cannot tune 'weightDecay' in parameter group", Assert.Throws<TrainTuneException>(() =>
            TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(20).Tune(Method.OnePass())
                .WithGroups(ParameterGroup.Matching("biases", "*.bias").StartingFrom(new Dictionary<string, double> { ["weightDecay"] = 0 }), ParameterGroup.Rest()).Run()).Message);
    }
}
