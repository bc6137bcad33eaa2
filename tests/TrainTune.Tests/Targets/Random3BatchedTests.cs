using System.Text.Json;
using TrainTune.Hosting;

namespace TrainTune.Tests.Targets;

public class Random3BatchedTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-batched-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static double Final(string record, string property) =>
        JsonDocument.Parse(File.ReadLines(record).Last()).RootElement.GetProperty(property).GetDouble();

    [Fact]
    public void Random3Batched_keeps_the_run_with_the_lowest_final_validation_loss_of_the_three()
    {
        var result = TargetRunner.Run(
            new HostRunRequest(typeof(TestTargets).Assembly.Location, "SmallRegression", _folder, new RunKnobs(Steps: 40, Method: "Random3Batched", Seed: 4), RandomInitial: true), TextWriter.Null)[0];

        var candidates = Enumerable.Range(0, 3).Select(i => Path.Combine(_folder, $"record-candidate-{i}.jsonl")).ToList();
        var validation = candidates.Select(c => Final(c, "validation_loss")).ToList();
        Assert.Equal(3, validation.Distinct().Count());
        Assert.Equal(validation.Min(), result.ValidationLoss);
        var best = validation.IndexOf(validation.Min());
        Assert.Equal(File.ReadAllText(candidates[best]), File.ReadAllText(Path.Combine(_folder, "record.jsonl")));
        Assert.Equal("Fixed", result.Method);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "result.json"))).RootElement.GetProperty("configuration");
        Assert.Equal("Random3Batched", summary.GetProperty("method_name").GetString());
        Assert.Contains($"candidate {best}", summary.GetProperty("note").GetString());
        // Candidate 0 starts from the seed's random values, as the other methods do for that seed.
        var first = JsonDocument.Parse(File.ReadLines(candidates[0]).First()).RootElement.GetProperty("hyperparameters");
        Assert.Equal(ExperimentProtocol.RandomInitial(4, new SgdMomentum())["learningRate"], first.GetProperty("learningRate").GetProperty("value").GetDouble(), 1e-9);
        // Trained on the training data only (SmallRegression has 400 training rows).
        Assert.All(Random3BatchedSearch.Candidates(TestTargets.SmallRegression()), c => Assert.Equal(400, c.Data!.Train.Rows));
    }

    [Fact]
    public void Random3Batched_runs_three_members_per_seed_in_one_population_with_the_results_of_single_runs()
    {
        var members = new long[] { 4, 5 }.Select(s => new HostRunRequest.Member(s, Path.Combine(_folder, s.ToString()))).ToList();
        var together = TargetRunner.Run(new HostRunRequest(typeof(TestTargets).Assembly.Location, "SmallRegression", members[0].OutputDirectory, new RunKnobs(Steps: 40, Method: "Random3Batched"), RandomInitial: true, Population: members), TextWriter.Null);
        for (var i = 0; i < members.Count; i++)
        {
            var alone = TargetRunner.Run(new HostRunRequest(typeof(TestTargets).Assembly.Location, "SmallRegression", Path.Combine(_folder, $"alone-{i}"), new RunKnobs(Steps: 40, Method: "Random3Batched", Seed: members[i].Seed), RandomInitial: true), TextWriter.Null)[0];
            // float32: the stacked sums round differently.
            Assert.Equal(alone.ValidationLoss, together[i].ValidationLoss, alone.ValidationLoss * 1e-4);
            Assert.Equal(alone.Seed, together[i].Seed);
            var note = JsonDocument.Parse(File.ReadAllText(Path.Combine(members[i].OutputDirectory, "result.json"))).RootElement.GetProperty("configuration").GetProperty("note").GetString();
            Assert.StartsWith("best of 3 by final validation loss", note);
            Assert.True(File.Exists(Path.Combine(members[i].OutputDirectory, "record.jsonl")));
        }
    }

    [Fact]
    public void Candidates_one_after_another_skip_the_train_and_test_evaluation_of_those_an_earlier_one_beat()
    {
        // One after another is the path of models that do not stack (BatchNorm, convolutions, LSTMs).
        var candidates = Random3BatchedSearch.Candidates(TestTargets.SmallRegression().ForSteps(40).WithSeed(7));
        var alone = candidates.Select(c => c.Run()).ToList();
        var sequence = Random3BatchedSearch.OneAfterAnother(candidates);

        var beaten = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            // Deterministic on CPU: the same run gives the same validation loss bit for bit.
            Assert.Equal(alone[i].ValidationLoss, sequence[i].ValidationLoss);
            var counted = alone.Take(i).All(earlier => alone[i].ValidationLoss < earlier.ValidationLoss);
            if (counted)
            {
                Assert.Equal(alone[i].TrainLoss, sequence[i].TrainLoss);
                Assert.Equal(alone[i].TestLoss, sequence[i].TestLoss);
            }
            else
            {
                beaten++;
                Assert.True(double.IsNaN(sequence[i].TrainLoss));
                Assert.Null(sequence[i].TestLoss);
            }
        }
        // This seed has both kinds, so neither branch is vacuous.
        Assert.InRange(beaten, 1, 2);
        var best = SearchOutcome.BestByValidation(sequence);
        Assert.Equal(SearchOutcome.BestByValidation(alone), best);
        Assert.True(double.IsFinite(sequence[best].TrainLoss) && sequence[best].TestLoss is not null);
        Assert.Equal((alone[best].TrainLoss, alone[best].ValidationLoss, alone[best].TestLoss), (sequence[best].TrainLoss, sequence[best].ValidationLoss, sequence[best].TestLoss));
    }

    [Fact]
    public void Random3Batched_members_of_a_model_that_does_not_stack_run_the_search_as_single_runs_do()
    {
        var members = new long[] { 4, 5 }.Select(s => new HostRunRequest.Member(s, Path.Combine(_folder, s.ToString()))).ToList();
        var knobs = new RunKnobs(Steps: 20, Method: "Random3Batched");
        var together = TargetRunner.Run(new HostRunRequest(typeof(TestTargets).Assembly.Location, "BatchNormRegression", members[0].OutputDirectory, knobs, RandomInitial: true, Population: members), TextWriter.Null);
        for (var i = 0; i < members.Count; i++)
        {
            var folder = members[i].OutputDirectory;
            // Three candidates, not BayesOpt's thirty evaluations.
            Assert.Equal(["record-candidate-0.jsonl", "record-candidate-1.jsonl", "record-candidate-2.jsonl", "record.jsonl"], Directory.GetFiles(folder, "record*.jsonl").Select(Path.GetFileName).Order());
            var configuration = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "result.json"))).RootElement.GetProperty("configuration");
            Assert.Equal("Random3Batched", configuration.GetProperty("method_name").GetString());
            Assert.StartsWith("best of 3 by final validation loss", configuration.GetProperty("note").GetString());
            var alone = TargetRunner.Run(new HostRunRequest(typeof(TestTargets).Assembly.Location, "BatchNormRegression", Path.Combine(_folder, $"alone-{i}"), knobs with { Seed = members[i].Seed }, RandomInitial: true), TextWriter.Null)[0];
            // One after another in both: the same computation.
            Assert.Equal((alone.ValidationLoss, alone.TrainLoss, alone.TestLoss), (together[i].ValidationLoss, together[i].TrainLoss, together[i].TestLoss));
        }
    }

    [Fact]
    public void A_search_cannot_be_resumed_and_says_so_before_it_trains()
    {
        var error = Assert.Throws<TrainTuneException>(() => TargetRunner.Run(
            new HostRunRequest(typeof(TestTargets).Assembly.Location, "SmallRegression", _folder, new RunKnobs(Steps: 40, Method: "bayesopt", Resume: true)), TextWriter.Null));
        // The catalogue's refusal, in the build's words wherever it is met.
        Assert.Equal("TrainTuneResume=true cannot resume TrainTuneMethod=BayesOpt: a search over whole runs keeps no checkpoint; run it again without TrainTuneResume.", error.Message);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void The_best_run_is_the_lowest_validation_loss_that_did_not_diverge()
    {
        RunResult Result(double validation, int? diverged = null) =>
            new("Fixed", 0, 10, diverged, 1, validation, 1, new Dictionary<string, HyperparameterValue>(), new Dictionary<string, HyperparameterValue>(), 0, 1, []);
        Assert.Equal(1, SearchOutcome.BestByValidation([Result(0.5), Result(0.2), Result(0.3)]));
        Assert.Equal(2, SearchOutcome.BestByValidation([Result(0.5), Result(0.1, diverged: 5), Result(0.3)]));
        Assert.Equal(0, SearchOutcome.BestByValidation([Result(double.NaN, 3), Result(double.NaN, 4), Result(double.NaN, 2)]));
    }
}
