using TrainTune.Tests.Training;
using static TorchSharp.torch;

namespace TrainTune.Tests.Populations;

/// <summary>
/// A population is N single runs computed together: in float64 every member must equal the
/// single run of its seed and initial values, whatever the others do.
/// </summary>
public class PopulationTests
{
    static readonly TrainingData Data = Tasks.Regression();

    static TuningRun Base() =>
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError)
            .On(Data).ForSteps(200).WithBatchSize(32, 64).InPrecision(ScalarType.Float64);

    /// <summary>Seed s, the paper's random initial values for s, and the method as the experiments apply it.</summary>
    static TuningRun Member(string method, long seed) =>
        ExperimentProtocol.Apply(method, Base().WithSeed(seed).StartingFrom(ExperimentProtocol.RandomInitial(seed, new SgdMomentum())));

    public static TheoryData<string> Methods() =>
        ["Random", "RandomLrMultiplier", "Lorraine", "OursWdLr", "OursWdLrM", "OursWdHdlrM", "Baydin", "DiffThroughOpt",
            // Rules whose state spans all weights: each member keeps its own (a shared d or norm would differ from the single runs).
            "ScheduleFree", "Prodigy", "DAdaptation", "DoG", "OursProdigy", "OursScheduleFree"];

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_member_equals_the_single_run_of_its_seed(string method)
    {
        long[] seeds = [11, 12, 13];
        var population = TuningRun.RunPopulation(seeds.Select(s => Member(method, s)));
        Assert.Equal(seeds.Length, population.Count);
        // A step size adapted from sums over all weights (d, r̄/√G) feeds each step's rounding into
        // the next step's size: for those rules the differences in summation order grow to ~1e-9
        // over 200 steps, still six orders below what a member sharing another's state would give.
        var tolerance = ExperimentProtocol.UsesItsOwnRule(method) ? 1e-7 : 1e-9;
        for (var i = 0; i < seeds.Length; i++)
            AssertSame(Member(method, seeds[i]).Run(), population[i], tolerance);
    }

    [Fact]
    public void Random3Batched_trains_its_three_candidates_as_one_population_with_their_single_results()
    {
        var run = Member("Random", 5).Tune(Method.Fixed());
        var outcome = Search.Random3Batched(run);
        var singles = Random3BatchedSearch.Candidates(run).Select(c => c.Run()).ToList();
        Assert.Equal(3, outcome.Evaluations.Count);
        for (var i = 0; i < 3; i++) AssertSame(singles[i], outcome.Evaluations[i]);
        Assert.Equal(singles.Select((r, i) => (r.ValidationLoss, i)).Min().i, outcome.BestIndex);
    }

    [Fact]
    public void A_diverging_member_is_frozen_and_leaves_the_others_as_their_single_runs()
    {
        TuningRun Stable(long seed) => Base().WithSeed(seed).Tune(Method.OnePass()).StartingFrom(new Dictionary<string, double> { ["learningRate"] = 0.01 });
        var diverging = Base().WithSeed(2).Tune(Method.OnePass()).StartingFrom(new Dictionary<string, double> { ["learningRate"] = 1, ["momentum"] = 0.999 });
        var alone = diverging.Run();
        Assert.True(alone.Diverged, "the diverging member's single run should diverge");

        var population = TuningRun.RunPopulation([Stable(1), diverging, Stable(3)]);

        Assert.Equal(alone.DivergedAtStep, population[1].DivergedAtStep);
        AssertSame(alone, population[1]);
        AssertSame(Stable(1).Run(), population[0]);
        AssertSame(Stable(3).Run(), population[2]);
        Assert.False(population[0].Diverged);
        Assert.Equal(200, population[2].StepsCompleted);
    }

    [Fact]
    public void Live_tensors_and_resident_memory_stay_flat_over_a_long_population_run()
    {
        var samples = new List<(int Step, long LiveTensors, long Resident)>();
        void Sample(RunProgress progress)
        {
            if (progress.Step % 500 != 0) return;
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            samples.Add((progress.Step, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount, process.WorkingSet64));
        }
        var members = new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }
            .Select(s => Member("OursWdLrM", s).ForSteps(3000).WithBatchSize(32, 64).OnProgress(s == 1 ? Sample : _ => { })).ToList();
        TuningRun.RunPopulation(members);

        Assert.Equal([500, 1000, 1500, 2000, 2500, 3000], samples.Select(s => s.Step));
        // Every tensor a step makes is freed with it (a leak of one per step would be 500 per sample;
        // the count moves by a few with the batch order each member draws per epoch); the process's
        // memory settles after the first blocks.
        Assert.All(samples, s => Assert.InRange(s.LiveTensors, samples[0].LiveTensors - 16, samples[0].LiveTensors + 16));
        var growth = (samples[^1].Resident - samples[0].Resident) / 1048576.0;
        Assert.True(growth < 32, $"resident memory grew by {growth:F1} MB from step 500 to step 3000");
    }

    [Fact]
    public void Each_member_writes_its_own_record()
    {
        var folder = Directory.CreateTempSubdirectory("traintune-population-").FullName;
        try
        {
            var members = new long[] { 1, 2 }.Select(s => Member("OursWdLrM", s).ForSteps(30).RecordTo(Path.Combine(folder, $"seed-{s}.jsonl"))).ToList();
            var results = TuningRun.RunPopulation(members);
            for (var i = 0; i < members.Count; i++)
            {
                var blocks = Hosting.RecordFile.ReadBlocks(members[i].RecordPath!);
                Assert.Equal(results[i].History.Select(b => b.ValidationLoss), blocks.Select(b => b.ValidationLoss));
                var start = System.Text.Json.JsonDocument.Parse(File.ReadLines(members[i].RecordPath!).First()).RootElement;
                Assert.Equal(members[i].Seed, start.GetProperty("seed").GetInt64());
                Assert.Equal(i, start.GetProperty("population").GetProperty("member").GetInt32());
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Members_that_differ_in_more_than_seed_and_values_are_refused_with_what_differs()
    {
        var error = Assert.Throws<TrainTuneException>(() => TuningRun.RunPopulation([Member("OursWdLrM", 1), Member("OursWdLrM", 2).ForSteps(100)]));
        Assert.Equal("Member 1 of the population differs from member 0 in its steps; the members of a population share everything but their seed, initial values, record and the learning-rate factor.", error.Message);
        error = Assert.Throws<TrainTuneException>(() => TuningRun.RunPopulation([Member("OursWdLrM", 1), Member("Baydin", 2)]));
        Assert.Contains("differs from member 0 in its method", error.Message);
        error = Assert.Throws<TrainTuneException>(() => TuningRun.RunPopulation([Member("OursWdLrM", 1), Member("OursWdLrM", 1)]));
        Assert.Contains("Two members of the population have seed 1 and the same initial values", error.Message);
        error = Assert.Throws<TrainTuneException>(() => TuningRun.RunPopulation([Member("OursWdLrM", 1).CheckpointTo("c.bin")]));
        Assert.Contains("A population keeps no checkpoint", error.Message);
    }

    [Fact]
    public void A_model_that_cannot_be_stacked_is_refused_naming_the_layer()
    {
        var run = TuningRun.Of(() => nn.Sequential(("hidden", nn.Linear(8, 16)), ("drop", nn.Dropout(0.1)), ("output", nn.Linear(16, 1))), new SgdMomentum(), Loss.MeanSquaredError)
            .On(Data).ForSteps(10);
        var error = Assert.Throws<TrainTuneException>(() => TuningRun.RunPopulation([run.WithSeed(1), run.WithSeed(2)]));
        Assert.StartsWith("Layer 'drop' (Dropout) of the model Sequential has no stacked form", error.Message);
    }

    /// <summary>Relative difference at most 1e-9 (unless <paramref name="tolerance"/> says otherwise): the stacked and single computations differ only in the order of floating-point sums.</summary>
    static void AssertSame(RunResult expected, RunResult actual, double tolerance = 1e-9)
    {
        Assert.Equal(expected.Seed, actual.Seed);
        Assert.Equal(expected.Method, actual.Method);
        Assert.Equal(expected.StepsCompleted, actual.StepsCompleted);
        Assert.Equal(expected.DivergedAtStep, actual.DivergedAtStep);
        Assert.Equal(expected.SkippedHypersteps, actual.SkippedHypersteps);
        Close(expected.TrainLoss, actual.TrainLoss, "train loss", tolerance);
        Close(expected.ValidationLoss, actual.ValidationLoss, "validation loss", tolerance);
        Close(expected.TestLoss ?? double.NaN, actual.TestLoss ?? double.NaN, "test loss", tolerance);
        Values(expected.InitialHyperparameters, actual.InitialHyperparameters, "initial", tolerance);
        Values(expected.FinalHyperparameters, actual.FinalHyperparameters, "final", tolerance);
        Assert.Equal(expected.History.Count, actual.History.Count);
        for (var b = 0; b < expected.History.Count; b++)
        {
            Assert.Equal(expected.History[b].Step, actual.History[b].Step);
            Close(expected.History[b].TrainLoss, actual.History[b].TrainLoss, $"block {b} train loss", tolerance);
            Close(expected.History[b].ValidationLoss, actual.History[b].ValidationLoss, $"block {b} validation loss", tolerance);
            Values(expected.History[b].Hyperparameters, actual.History[b].Hyperparameters, $"block {b}", tolerance);
        }
    }

    static void Values(IReadOnlyDictionary<string, HyperparameterValue> expected, IReadOnlyDictionary<string, HyperparameterValue> actual, string what, double tolerance)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, value) in expected)
        {
            Close(value.Value, actual[name].Value, $"{what} {name}", tolerance);
            Close(value.Min, actual[name].Min, $"{what} {name} min", tolerance);
            Close(value.Max, actual[name].Max, $"{what} {name} max", tolerance);
            Assert.Equal(value.PerTensor?.Keys, actual[name].PerTensor?.Keys);
            foreach (var (tensor, range) in value.PerTensor ?? new Dictionary<string, HyperparameterValue>())
                Close(range.Value, actual[name].PerTensor![tensor].Value, $"{what} {name} {tensor}", tolerance);
        }
    }

    static void Close(double expected, double actual, string what, double tolerance)
    {
        if (double.IsNaN(expected) && double.IsNaN(actual)) return;
        var difference = Math.Abs(expected - actual) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(difference <= tolerance, $"{what}: single run {expected:R}, population member {actual:R} (relative difference {difference:G3})");
    }
}

/// <summary>Multi-start tuning: the starts as one population, the best by final validation loss counted.</summary>
public class BestOfTests
{
    static readonly TrainingData Data = Tasks.Regression();

    static TuningRun Run() =>
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError)
            .On(Data).ForSteps(100).WithBatchSize(32, 64).InPrecision(ScalarType.Float64).WithSeed(7).Tune(Method.OnePass());

    [Fact]
    public void The_result_is_the_start_with_the_lowest_validation_loss_among_the_single_runs_of_its_starts()
    {
        var folder = Directory.CreateTempSubdirectory("traintune-bestof-").FullName;
        try
        {
            var record = Path.Combine(folder, "record.jsonl");
            var result = Run().Tune(Method.BestOf(4, Method.OnePass())).RecordTo(record).Run();

            // The starts by hand: the run itself, then seed s + k·1000003 with the paper's random values.
            var singles = Enumerable.Range(0, 4).Select(k => k == 0 ? Run().Run()
                : Run().WithSeed(7 + k * 1_000_003L).StartingFrom(ExperimentProtocol.RandomInitial(7 + k * 1_000_003L, new SgdMomentum())).Run()).ToList();
            Assert.True(singles.Select(r => r.ValidationLoss).Distinct().Count() == 4, "the starts should end in different places");
            var best = singles.Select((r, k) => (r.ValidationLoss, k)).Min().k;
            Assert.Equal(singles[best].Seed, result.Seed);
            Assert.Equal(singles[best].ValidationLoss, result.ValidationLoss, singles[best].ValidationLoss * 1e-9);
            Assert.Equal(singles[best].FinalHyperparameters["learningRate"].Value, result.FinalHyperparameters["learningRate"].Value, 1e-12);
            // Every start's record is kept; the counted one's is the run's record.
            Assert.All(Enumerable.Range(0, 4), k => Assert.True(File.Exists(Path.Combine(folder, $"record-start-{k}.jsonl"))));
            Assert.Equal(File.ReadAllText(Path.Combine(folder, $"record-start-{best}.jsonl")), File.ReadAllText(record));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Bad_multi_start_settings_are_refused_with_what_to_change()
    {
        Assert.Equal("BestOf needs at least one start, not 0.", Assert.Throws<TrainTuneException>(() => Method.BestOf(0, Method.OnePass())).Message);
        Assert.StartsWith("BestOf cannot be resumed", Assert.Throws<TrainTuneException>(() =>
            Run().Tune(Method.BestOf(2, Method.OnePass())).CheckpointTo("c.bin").ResumeFromCheckpoint().Run()).Message);
    }
}

/// <summary>A rule of one's own whose step reduces over all weights takes part in a population through the layout.</summary>
public class LayoutRuleTests
{
    static TuningRun Run<TRule>(TRule rule, long seed) where TRule : IWeightUpdate =>
        TuningRun.Of(Tasks.Mlp, rule, Loss.MeanSquaredError).On(Tasks.Regression()).ForSteps(100).WithBatchSize(32, 64)
            .InPrecision(ScalarType.Float64).WithSeed(seed).Tune(Method.OnePass());

    [Fact]
    public void With_one_member_the_layout_rule_is_the_plain_rule_it_rewrites()
    {
        var plain = Run(new Rules.NormalisedSgd(), 4).Run();
        var layout = Run(new Rules.MemberNormalisedSgd(), 4).Run();
        Assert.Equal(plain.ValidationLoss, layout.ValidationLoss);
        Assert.Equal(plain.FinalHyperparameters["learningRate"].Value, layout.FinalHyperparameters["learningRate"].Value);
    }

    [Fact]
    public void Every_member_of_a_population_equals_its_single_run_and_keeps_its_own_norm()
    {
        long[] seeds = [1, 2, 3];
        var population = TuningRun.RunPopulation(seeds.Select(s => Run(new Rules.MemberNormalisedSgd(), s)));
        var singles = seeds.Select(s => Run(new Rules.NormalisedSgd(), s).Run()).ToList();
        for (var i = 0; i < seeds.Length; i++)
        {
            // The single runs take the norm over one model's weights; a norm over the stacked tensors
            // would be every member's together. Stacked and single differ only in the order of sums.
            Assert.Equal(singles[i].ValidationLoss, population[i].ValidationLoss, singles[i].ValidationLoss * 1e-9);
            var expected = singles[i].History.Select(b => b.Hyperparameters["learningRate"].Value).ToList();
            var actual = population[i].History.Select(b => b.Hyperparameters["learningRate"].Value).ToList();
            Assert.All(expected.Zip(actual), pair => Assert.Equal(pair.First, pair.Second, pair.First * 1e-9));
        }
    }
}
