extern alias build;
using build::TrainTune.Build.Experiments;

namespace TrainTune.Tests.Build;

public class PopulationCalibrationTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-calibration-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

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
    public void A_single_run_costs_its_median_per_step_so_a_slow_first_run_does_not_make_a_population_look_faster()
    {
        // The build's first run (10.2 s) beside four ordinary ones, 4000 steps each: the median is 1.05 ms, the mean 1.27.
        PopulationCalibration.SingleRun[] runs = [new(10.2, 4000), new(4.5, 4000), new(4.1, 4000), new(3.5, 4000), new(4.2, 4000)];
        Assert.Equal(1.05, PopulationCalibration.SingleRunMilliseconds(runs), 12);
        // A population at 1.0 ms per member-step is not 10% faster than that, though it is than the mean.
        Assert.Equal(1, PopulationCalibration.Decide(PopulationCalibration.SingleRunMilliseconds(runs), [new(16, 1.0)]).Members);
        Assert.Equal(16, PopulationCalibration.Decide(runs.Sum(r => r.Seconds) * 1000 / runs.Sum(r => r.Steps), [new(16, 1.0)]).Members);

        // An even count takes the mean of the middle two; runs of other lengths by their own steps; none that stepped is NaN.
        Assert.Equal(2.5, PopulationCalibration.SingleRunMilliseconds([new(1, 1000), new(2, 1000), new(4.5, 1500), new(9, 1000)]), 12);
        Assert.True(double.IsNaN(PopulationCalibration.SingleRunMilliseconds([])));
        Assert.True(double.IsNaN(PopulationCalibration.SingleRunMilliseconds([new(0.1, 0)])));
    }

    [Fact]
    public void A_choice_is_cached_per_key_and_read_back_with_when_it_was_measured()
    {
        Assert.Null(PopulationCalibration.Cached(_folder, "cpu A; Energy; OursWdLrM"));
        var remembered = PopulationCalibration.Remember(_folder, "cpu A; Energy; OursWdLrM", new(16, "auto: measured"));
        Assert.Equal($"populations of up to 16 per process (auto: measured; cached in {Path.Combine(_folder, PopulationCalibration.CacheFile)})", remembered.ToString());
        PopulationCalibration.Remember(_folder, "cpu B; Energy; OursWdLrM", new(1, "auto: slower"));

        var cached = PopulationCalibration.Cached(_folder, "cpu A; Energy; OursWdLrM");
        Assert.Equal(16, cached?.Members);
        Assert.Matches(@"^auto: measured; measured \d{4}-\d\d-\d\d \d\d:\d\d UTC, cached in ", cached!.Why);
        // Another CPU (or method, or model) is a key of its own, and both stay in the cache.
        Assert.Equal(1, PopulationCalibration.Cached(_folder, "cpu B; Energy; OursWdLrM")?.Members);
        Assert.Null(PopulationCalibration.Cached(_folder, "cpu C; Energy; OursWdLrM"));
    }

    [Fact]
    public void A_cache_that_cannot_be_read_is_measured_again_and_rewritten()
    {
        File.WriteAllText(Path.Combine(_folder, PopulationCalibration.CacheFile), "{ not json");
        Assert.Null(PopulationCalibration.Cached(_folder, "key"));
        PopulationCalibration.Remember(_folder, "key", new(8, "auto: measured"));
        Assert.Equal(8, PopulationCalibration.Cached(_folder, "key")?.Members);
    }

    [Fact]
    public void Seeds_are_cut_into_even_processes_whose_count_fills_every_round()
    {
        // 200 seeds in populations of at most 16 on 2 cores: 14 processes of 14–15, not 13 ending with one alone.
        var chunks = ExperimentRunner.Chunks(Seeds(("OursWdLrM", 1, 200)), _ => 16, 2);
        Assert.Equal(14, chunks.Count);
        Assert.All(chunks, c => Assert.InRange(c.Seeds.Length, 14, 15));
        Assert.Equal(Enumerable.Range(1, 200).Select(s => (long)s), chunks.SelectMany(c => c.Seeds));

        // Each method keeps its own size; one run per process stays one run per process; a method measured on its first runs has the rest left.
        var mixed = ExperimentRunner.Chunks(Seeds(("Random", 4, 5), ("BayesOpt", 1, 5)), m => m == "Random" ? 4 : 1, 2);
        Assert.Equal([[4, 5], [6, 7], [8]], mixed.Where(c => c.Method == "Random").Select(c => c.Seeds));
        Assert.Equal(5, mixed.Count(c => c.Method == "BayesOpt"));
        Assert.Equal(8, mixed.Count);

        // Already a multiple of the cores: unchanged; a method with nothing left: no process.
        Assert.Equal([[1, 2, 3, 4], [5, 6, 7, 8]], ExperimentRunner.Chunks(Seeds(("Random", 1, 8), ("Baydin", 1, 0)), _ => 4, 2).Select(c => c.Seeds));
    }

    static Dictionary<string, IReadOnlyList<long>> Seeds(params (string Method, long First, int Count)[] methods) =>
        methods.ToDictionary(m => m.Method, m => (IReadOnlyList<long>)[.. Enumerable.Range(0, m.Count).Select(k => m.First + k)]);
}
