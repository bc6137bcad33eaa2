using System.Text.Json;
using TrainTune.Hosting;

namespace TrainTune.Tests.Targets;

/// <summary>The host runs the learning-rate-free methods from their optimiser's defaults, not from the paper's random values for SGD.</summary>
public class OwnRuleMethodTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-ownrule-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void An_experiment_run_of_prodigy_starts_from_its_defaults_and_its_seed_varies_the_weights()
    {
        var members = new long[] { 4, 5 }.Select(s => new HostRunRequest.Member(s, Path.Combine(_folder, s.ToString()))).ToList();
        var results = TargetRunner.Run(new HostRunRequest(typeof(TestTargets).Assembly.Location, "SmallRegression", members[0].OutputDirectory, new RunKnobs(Steps: 40, Method: "Prodigy"), RandomInitial: true, Population: members), TextWriter.Null);
        var defaults = new Prodigy();
        foreach (var result in results)
            foreach (var spec in defaults.Hyperparameters)
                Assert.Equal(spec.Initial, result.InitialHyperparameters[spec.Name].Value, 6);
        Assert.NotEqual(results[0].ValidationLoss, results[1].ValidationLoss);
        var configuration = JsonDocument.Parse(File.ReadAllText(Path.Combine(members[0].OutputDirectory, "result.json"))).RootElement.GetProperty("configuration");
        Assert.Equal("TrainTune.Prodigy", configuration.GetProperty("rule").GetString());
    }

    [Fact]
    public void Several_starts_of_an_optimiser_with_its_own_defaults_are_refused_before_training()
    {
        var error = Assert.Throws<TrainTuneException>(() => TargetRunner.Run(
            new HostRunRequest(typeof(TestTargets).Assembly.Location, "SmallRegression", _folder, new RunKnobs(Steps: 40, Method: "OursScheduleFree", Starts: 3)), TextWriter.Null));
        Assert.Contains("OursScheduleFree", error.Message);
        Assert.Contains("TrainTuneStarts at 1", error.Message);
        Assert.Empty(Directory.GetFiles(_folder));
    }
}
