extern alias build;
using build::TrainTune.Build.Experiments;

namespace TrainTune.Tests.Build;

public class PopulationCalibrationTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-calibration-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_sizes_tried_are_those_up_to_what_a_process_may_hold()
    {
        Assert.Empty(PopulationCalibration.Candidates(1));
        Assert.Equal([2], PopulationCalibration.Candidates(2));
        Assert.Equal([6], PopulationCalibration.Candidates(6));
        Assert.Equal([8, 16], PopulationCalibration.Candidates(16));
    }

    [Fact]
    public void A_population_is_chosen_only_when_it_measured_at_least_ten_percent_faster_per_member()
    {
        var faster = PopulationCalibration.Decide(0.40, [new(4, 0.25), new(8, 0.19), new(16, 0.20)]);
        Assert.Equal(8, faster.Members);
        Assert.Equal("populations of up to 8 per process (auto: a population of 8 measured 2.1× faster per member than one run; "
            + "ms per member-step, one run 0.400; populations of 4: 0.250, 8: 0.190, 16: 0.200)", faster.ToString());

        // 0.6× as on the CPU where populations were slower, and a gain inside the margin: one run per process.
        Assert.Equal(1, PopulationCalibration.Decide(0.24, [new(16, 0.41)]).Members);
        Assert.Equal(1, PopulationCalibration.Decide(0.40, [new(16, 0.37)]).Members);
        Assert.StartsWith("one run per process (auto: no population measured 10% faster per member than one run; ms per member-step, one run 0.400",
            PopulationCalibration.Decide(0.40, [new(16, 0.37)]).ToString());
        Assert.Equal(16, PopulationCalibration.Decide(0.40, [new(16, 0.36)]).Members);
        Assert.Equal(1, PopulationCalibration.Decide(double.NaN, [new(16, 0.1)]).Members);
        Assert.Equal(1, PopulationCalibration.Decide(-0.01, [new(16, 0.1)]).Members);
        Assert.Equal(1, PopulationCalibration.Decide(0.40, [new(16, -0.02)]).Members);
    }

    [Fact]
    public void A_choice_is_measured_once_per_key_and_then_read_from_the_cache()
    {
        var measured = new List<int>();
        double Measure(int members)
        {
            measured.Add(members);
            return members == 1 ? 0.4 : 0.4 / Math.Sqrt(members);
        }
        var first = PopulationCalibration.Choose(_folder, "cpu A; Energy; OursWdLrM", 16, Measure);
        Assert.Equal(16, first.Members);
        Assert.Equal([1, 8, 16], measured);
        Assert.Contains("measured now, cached in", first.Why);

        var again = PopulationCalibration.Choose(_folder, "cpu A; Energy; OursWdLrM", 16, Measure);
        Assert.Equal(16, again.Members);
        Assert.Equal(3, measured.Count);
        Assert.Matches(@"; measured \d{4}-\d\d-\d\d \d\d:\d\d UTC, cached in ", again.Why);

        // Another CPU (or method, or model) is a key of its own, and both stay in the cache.
        var other = PopulationCalibration.Choose(_folder, "cpu B; Energy; OursWdLrM", 16, members => members == 1 ? 0.24 : 0.41);
        Assert.Equal(1, other.Members);
        Assert.Equal(16, PopulationCalibration.Choose(_folder, "cpu A; Energy; OursWdLrM", 16, _ => throw new InvalidOperationException("not measured again")).Members);
    }

    [Fact]
    public void A_calibration_that_fails_chooses_one_run_per_process_says_why_and_caches_nothing()
    {
        var choice = PopulationCalibration.Choose(_folder, "key", 16, members =>
            members == 1 ? 0.4 : throw new InvalidOperationException("8 member(s) of OursWdLrM: exit code 137: out of memory"));
        Assert.Equal("one run per process (auto: the calibration failed, 8 member(s) of OursWdLrM: exit code 137: out of memory)", choice.ToString());
        Assert.False(File.Exists(Path.Combine(_folder, PopulationCalibration.CacheFile)));
    }

    [Fact]
    public void A_cache_that_cannot_be_read_is_measured_again_and_rewritten()
    {
        File.WriteAllText(Path.Combine(_folder, PopulationCalibration.CacheFile), "{ not json");
        var choice = PopulationCalibration.Choose(_folder, "key", 8, members => members == 1 ? 0.4 : 0.2);
        Assert.Equal(8, choice.Members);
        Assert.Contains("\"key\"", File.ReadAllText(Path.Combine(_folder, PopulationCalibration.CacheFile)));
    }

    [Fact]
    public void Seeds_are_cut_into_even_processes_whose_count_fills_every_round()
    {
        // 200 seeds in populations of at most 16 on 2 cores: 14 processes of 14–15, not 13 ending with one alone.
        var chunks = ExperimentRunner.Chunks(["OursWdLrM"], 200, _ => 16, 2);
        Assert.Equal(14, chunks.Count);
        Assert.All(chunks, c => Assert.InRange(c.Seeds.Length, 14, 15));
        Assert.Equal(Enumerable.Range(1, 200).Select(s => (long)s), chunks.SelectMany(c => c.Seeds));

        // Each method keeps its own size; one run per process stays one run per process.
        var mixed = ExperimentRunner.Chunks(["Random", "BayesOpt"], 5, m => m == "Random" ? 4 : 1, 2);
        Assert.Equal([[1, 2], [3, 4], [5]], mixed.Where(c => c.Method == "Random").Select(c => c.Seeds));
        Assert.Equal(5, mixed.Count(c => c.Method == "BayesOpt"));
        Assert.Equal(8, mixed.Count);

        // Already a multiple of the cores: unchanged.
        Assert.Equal([[1, 2, 3, 4], [5, 6, 7, 8]], ExperimentRunner.Chunks(["Random"], 8, _ => 4, 2).Select(c => c.Seeds));
    }
}
