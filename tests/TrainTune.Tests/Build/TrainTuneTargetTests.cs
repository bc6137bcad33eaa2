using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TrainTune.Tests.Build;

/// <summary>
/// dotnet build -t:TrainTune end to end on tests/fixtures/TinyTargets (100-step targets, one
/// long target, one that aborts its process). In one collection, so the builds never overlap.
/// </summary>
[Collection(DotnetCli.Collection)]
public class TrainTuneTargetTests : IDisposable
{
    readonly string _output = Directory.CreateTempSubdirectory("traintune-e2e-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    static readonly string[] ReportFiles = ["report.md", "report.json", "record.jsonl", "losses.svg", "hyperparameters.svg", "tuned.json", "result.json"];

    static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    [Fact]
    public void Builds_run_each_target_and_record_every_report_file_and_the_history()
    {
        var first = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick%3BPerWeight");
        Assert.True(first.ExitCode == 0, first.Output);
        foreach (var target in new[] { "Quick", "PerWeight" })
            foreach (var file in ReportFiles)
                Assert.True(File.Exists(Path.Combine(_output, target, file)), $"{target}/{file} is missing");
        Assert.False(File.Exists(Path.Combine(_output, "Quick", "checkpoint.bin")), "a finished target leaves no checkpoint");
        Assert.Contains("Quick: step 100/100 (100%)", first.Output);
        Assert.Contains("TrainTune: Quick report in", first.Output);
        Assert.Contains("(first run)", first.Output);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_output, "history.jsonl")).Length);
        var report = Json(Path.Combine(_output, "PerWeight", "report.json"));
        Assert.Equal(100, report.GetProperty("steps_completed").GetInt32());
        Assert.Equal(4, report.GetProperty("hyperparameters").GetProperty("learningRate").GetProperty("final_per_tensor").EnumerateObject().Count());
        var threads = report.GetProperty("configuration").GetProperty("threads");
        Assert.Equal((1, 1), (threads.GetProperty("intra_op").GetInt32(), threads.GetProperty("inter_op").GetInt32()));
        Assert.StartsWith("auto: ", threads.GetProperty("reason").GetString());
        var timing = report.GetProperty("timing");
        Assert.Equal(["process_start_to_first_step", "runtime_start", "target_loading", "libtorch_loading", "data_loading", "setup", "training", "final_evaluation", "report_writing"],
            timing.EnumerateObject().Select(p => p.Name));
        Assert.All(timing.EnumerateObject(), p => Assert.True(p.Value.GetDouble() >= 0, $"{p.Name} = {p.Value}"));
        var beforeFirstStep = new[] { "runtime_start", "target_loading", "libtorch_loading", "data_loading", "setup" }.Sum(p => timing.GetProperty(p).GetDouble());
        // The same seconds summed in another order: equal to rounding (rounding both to six places could split them at a half).
        Assert.Equal(timing.GetProperty("process_start_to_first_step").GetDouble(), beforeFirstStep, 1e-9);
        Assert.Contains("| threads | 1 intra-op, 1 inter-op (auto: ", File.ReadAllText(Path.Combine(_output, "PerWeight", "report.md")));
        Assert.Contains("| process start to first step |", File.ReadAllText(Path.Combine(_output, "PerWeight", "report.md")));

        var second = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneSteps=50", "-p:TrainTuneMethod=Fixed", "-p:TrainTuneSeed=3",
            "-p:TrainTuneThreads=2", "-p:TrainTuneValidationBatchSize=16");
        Assert.True(second.ExitCode == 0, second.Output);
        // A knob reaches the run through the one request: the property, the build's read, the host.
        Assert.Equal(16, Json(Path.Combine(_output, "Quick", "report.json")).GetProperty("configuration").GetProperty("validation_batch_size").GetInt32());
        var explicitThreads = Json(Path.Combine(_output, "Quick", "report.json")).GetProperty("configuration").GetProperty("threads");
        Assert.Equal(2, explicitThreads.GetProperty("intra_op").GetInt32());
        Assert.StartsWith("set to 2 by WithThreads/TrainTuneThreads", explicitThreads.GetProperty("reason").GetString());
        var history = File.ReadAllLines(Path.Combine(_output, "history.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, history.Count);
        Assert.Equal(("Quick", "Fixed", 3, 50), (history[2].GetProperty("target").GetString(), history[2].GetProperty("method").GetString(),
            history[2].GetProperty("seed").GetInt32(), history[2].GetProperty("steps").GetInt32()));
        var previous = history[0].GetProperty("validation_loss").GetDouble();
        var now = history[2].GetProperty("validation_loss").GetDouble();
        var lastLines = second.Output.Split('\n').Select(l => l.Trim()).SkipWhile(l => !l.StartsWith("TrainTune Quick:")).ToList();
        Assert.Contains(lastLines, l => l.StartsWith("validation loss") && l.Contains($"{previous:G4} -> {now:G4}"));
    }

    [Fact]
    public void A_target_that_aborts_its_process_is_an_error_and_the_others_still_report()
    {
        var outcome = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Crash%3BQuick");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Matches("Training target Crash failed with exit code (134|-6|6)", outcome.Output);
        Assert.Contains("Crash target aborts on purpose", outcome.Output);
        foreach (var file in ReportFiles) Assert.True(File.Exists(Path.Combine(_output, "Quick", file)), $"Quick/{file} is missing");
        Assert.False(File.Exists(Path.Combine(_output, "Crash", "report.md")));
        Assert.Single(File.ReadAllLines(Path.Combine(_output, "history.jsonl")));
    }

    [Fact]
    public void Bad_knobs_and_unknown_targets_are_errors_that_say_what_to_do()
    {
        var knobs = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneSteps=-5", "-p:TrainTuneMethod=Bogus", "-p:TrainTuneDevice=tpu", "-p:TrainTuneThreads=0");
        Assert.NotEqual(0, knobs.ExitCode);
        Assert.Contains("TrainTuneThreads='0' is not valid: use auto (the default: chosen from each run's work per step) or a positive whole number of libtorch threads.", knobs.Output);
        Assert.Contains("TrainTuneSteps='-5' is not a positive whole number", knobs.Output);
        Assert.Contains("TrainTuneMethod='Bogus' is not a known method; the valid ones are: OnePass, Fixed, Random", knobs.Output);
        Assert.Contains("TrainTuneDevice='tpu' is not a device", knobs.Output);

        var unknown = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Energy");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("TrainTuneTargets names 'Energy', which is not a training target of this project; the valid ones are: Quick, PerWeight, Long, Normed, Crash", unknown.Output);

        var unwritable = DotnetCli.TrainTune("TinyTargets", "/proc/traintune-out");
        Assert.NotEqual(0, unwritable.ExitCode);
        Assert.Contains("TrainTuneOutputDir='/proc/traintune-out/' cannot be written", unwritable.Output);
    }

    [Fact]
    public void A_killed_target_resumes_from_its_checkpoint_and_ends_like_an_uninterrupted_run()
    {
        string[] common = ["-p:TrainTuneTargets=Long", "-p:TrainTuneCheckpointEvery=5", "-p:TrainTuneProgressInterval=1"];
        var whole = Path.Combine(_output, "whole");
        var uninterrupted = DotnetCli.TrainTune("TinyTargets", whole, common);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Output);

        var parts = Path.Combine(_output, "parts");
        var checkpoint = Path.Combine(parts, "Long", "checkpoint.bin");
        var killed = DotnetCli.Run(DotnetCli.RepositoryRoot(), TimeSpan.FromMinutes(10), _ =>
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
            while (!File.Exists(checkpoint) && DateTime.UtcNow < deadline) Thread.Sleep(100);
            Thread.Sleep(300);
            Assert.True(File.Exists(checkpoint), "no checkpoint appeared");
            using var kill = Process.Start("pkill", ["-KILL", "-f", Path.Combine(parts, "Long")]);
            kill.WaitForExit();
        }, ["build", DotnetCli.Fixture("TinyTargets"), "-t:TrainTune", "--disable-build-servers", "-nodeReuse:false", $"-p:TrainTuneOutputDir={parts}", .. common]);
        Assert.NotEqual(0, killed.ExitCode);
        Assert.Matches("Training target Long failed with exit code (137|-9|9)", killed.Output);
        Assert.True(File.Exists(checkpoint));

        var resumed = DotnetCli.TrainTune("TinyTargets", parts, [.. common, "-p:TrainTuneResume=true"]);
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        var expected = Json(Path.Combine(whole, "Long", "result.json")).GetProperty("result");
        var actual = Json(Path.Combine(parts, "Long", "result.json")).GetProperty("result");
        foreach (var loss in new[] { "train_loss", "validation_loss", "test_loss" })
            Assert.Equal(expected.GetProperty(loss).GetDouble(), actual.GetProperty(loss).GetDouble());
        Assert.Equal(expected.GetProperty("final_hyperparameters").GetRawText(), actual.GetProperty("final_hyperparameters").GetRawText());
        Assert.Contains(File.ReadLines(Path.Combine(parts, "Long", "record.jsonl")), l => l.Contains("\"event\":\"resumed\""));
    }

    [Fact]
    public void A_warm_start_begins_from_the_previous_tuned_values()
    {
        var first = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick");
        Assert.True(first.ExitCode == 0, first.Output);
        var tuned = Json(Path.Combine(_output, "Quick", "tuned.json")).GetProperty("hyperparameters");

        var warm = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneWarmStart=true");
        Assert.True(warm.ExitCode == 0, warm.Output);
        // The build log names the file and the values; the host reads the same file when the run starts.
        Assert.Contains($"Quick starts from the values tuned by the previous build, read from '{Path.Combine(_output, "Quick", "tuned.json")}': learningRate = ", warm.Output);
        var result = Json(Path.Combine(_output, "Quick", "result.json"));
        Assert.EndsWith(Path.Combine("Quick", "tuned.json"), result.GetProperty("configuration").GetProperty("warm_start").GetString());
        var initial = result.GetProperty("result").GetProperty("initial_hyperparameters");
        foreach (var value in tuned.EnumerateObject())
        {
            var started = initial.GetProperty(value.Name).GetProperty("value").GetDouble();
            Assert.True(Math.Abs(started - value.Value.GetDouble()) <= 1e-6 * Math.Abs(value.Value.GetDouble()), $"{value.Name}: started at {started}, tuned {value.Value.GetDouble()}");
        }

        // Without the knob the target starts from its own values again.
        var cold = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick");
        Assert.True(cold.ExitCode == 0, cold.Output);
        Assert.Equal(1e-3, Json(Path.Combine(_output, "Quick", "result.json")).GetProperty("result").GetProperty("initial_hyperparameters").GetProperty("learningRate").GetProperty("value").GetDouble(), 1e-9);
    }

    [Fact]
    public void TensorBoard_event_files_are_written_into_each_targets_folder_when_asked()
    {
        var outcome = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneTensorBoard=true");
        Assert.True(outcome.ExitCode == 0, outcome.Output);
        var file = Assert.Single(Directory.GetFiles(Path.Combine(_output, "Quick", "tensorboard"), "events.out.tfevents.*"));
        Assert.True(new FileInfo(file).Length > 1000, "the event file should hold a scalar per block");

        var bad = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneTensorBoard=maybe");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("TrainTuneTensorBoard='maybe' is not true or false.", bad.Output);
    }

    [Fact]
    public void Multi_start_tuning_keeps_the_best_start_and_draws_the_others_behind_it()
    {
        var outcome = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneStarts=3");
        Assert.True(outcome.ExitCode == 0, outcome.Output);
        var folder = Path.Combine(_output, "Quick");
        var configuration = Json(Path.Combine(folder, "result.json")).GetProperty("configuration");
        Assert.Equal("BestOf", configuration.GetProperty("method_name").GetString());
        Assert.Equal(3, configuration.GetProperty("starts").GetInt32());
        var best = configuration.GetProperty("best_start").GetInt32();
        Assert.StartsWith($"best of 3 starts by final validation loss: start {best}", configuration.GetProperty("note").GetString());
        Assert.Equal(File.ReadAllText(Path.Combine(folder, $"record-start-{best}.jsonl")), File.ReadAllText(Path.Combine(folder, "record.jsonl")));
        Assert.Contains("validation, the other 2 starts", File.ReadAllText(Path.Combine(folder, "losses.svg")));

        var bad = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneStarts=0");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("TrainTuneStarts='0' is not a positive whole number of starts", bad.Output);
        bad = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneStarts=2", "-p:TrainTuneMethod=BayesOpt");
        Assert.Contains("TrainTuneStarts=2 cannot be combined with TrainTuneMethod=BayesOpt", bad.Output);
    }

    [Fact]
    public void An_experiment_runs_every_method_and_initialisation_and_writes_its_results()
    {
        var outcome = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneInits=2", "-p:TrainTuneMethods=Random%3BOursWdLrM", "-p:TrainTunePopulation=2");
        Assert.True(outcome.ExitCode == 0, outcome.Output);
        var csv = File.ReadAllLines(Path.Combine(_output, "Quick", "results.csv"));
        Assert.Equal(5, csv.Length);
        Assert.Equal(["OursWdLrM,1", "OursWdLrM,2", "Random,1", "Random,2"], csv.Skip(1).Select(l => string.Join(",", l.Split(',').Take(2))));
        // The same seed starts both methods from the same random hyperparameters.
        Assert.Equal(csv[1].Split(',')[2], csv[3].Split(',')[2]);
        var markdown = File.ReadAllText(Path.Combine(_output, "Quick", "results.md"));
        Assert.Contains("| OursWdLrM | 2 | 0 | 0 |", markdown);
        // As many runs at a time as there are cores: the thread policy of each sees one core.
        var runThreads = Json(Path.Combine(_output, "Quick", "runs", "Random", "1", "result.json")).GetProperty("configuration").GetProperty("threads");
        Assert.Equal((1, 1), (runThreads.GetProperty("intra_op").GetInt32(), runThreads.GetProperty("cores").GetInt32()));
        Assert.Contains("-p:TrainTuneInits=2", markdown);
        // Each method's two seeds ran as one population of two.
        Assert.Contains("Quick: OursWdLrM: populations of up to 2 per process (TrainTunePopulation=2)", outcome.Output);
        Assert.Contains("member 1 of a population of 2", Json(Path.Combine(_output, "Quick", "runs", "OursWdLrM", "2", "result.json")).GetProperty("configuration").GetProperty("note").GetString());

        // One run per process gives the same values (float32: the stacked sums round differently).
        var alone = Path.Combine(_output, "alone");
        var single = DotnetCli.TrainTune("TinyTargets", alone, "-p:TrainTuneTargets=Quick", "-p:TrainTuneInits=2", "-p:TrainTuneMethods=Random%3BOursWdLrM", "-p:TrainTunePopulation=1");
        Assert.True(single.ExitCode == 0, single.Output);
        var singleCsv = File.ReadAllLines(Path.Combine(alone, "Quick", "results.csv"));
        Assert.Equal(csv[0], singleCsv[0]);
        var header = csv[0].Split(',');
        for (var row = 1; row < csv.Length; row++)
        {
            var (together, apart) = (csv[row].Split(','), singleCsv[row].Split(','));
            for (var column = 0; column < header.Length; column++)
            {
                if (header[column] is "seconds" or "failure") continue;
                if (!double.TryParse(together[column], System.Globalization.CultureInfo.InvariantCulture, out var a)) { Assert.Equal(apart[column], together[column]); continue; }
                var b = double.Parse(apart[column], System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Abs(b), $"{header[column]} of row {row}: population {a}, alone {b}");
            }
        }
        Assert.Contains("one run per process", single.Output);

        var bad = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneInits=0", "-p:TrainTuneMethods=Nope", "-p:TrainTunePopulation=many");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("TrainTuneInits='0' is not a positive whole number", bad.Output);
        Assert.Contains("TrainTunePopulation='many' is not valid: use auto, or a positive whole number of initialisations per process", bad.Output);
        Assert.Contains("TrainTuneMethods names 'Nope', which is not a method; the valid ones are: OnePass, Fixed, Random, RandomLrMultiplier, Random3Batched, Lorraine, Baydin, OursWdLr, OursWdLrM, OursWdHdlrM, DiffThroughOpt, BayesOpt", bad.Output);
    }

    [Fact]
    public void Population_auto_measures_on_this_machine_says_what_it_chose_and_why_and_measures_once()
    {
        string[] experiment = ["-p:TrainTuneTargets=Quick", "-p:TrainTuneInits=8", "-p:TrainTuneMethods=OursWdLrM%3BBayesOpt", "-p:TrainTuneSteps=60"];
        var first = DotnetCli.TrainTune("TinyTargets", _output, experiment);
        Assert.True(first.ExitCode == 0, first.Output);
        // The first runs were the measurement: seed 1 alone beside seeds 2–8 as one population; the choice, its figures and the cache are in the log.
        Assert.Matches(@"Quick: OursWdLrM: (one run|populations of up to 7) per process \(auto: (no population measured 10% faster|a population of 7 measured \d+\.\d× faster) per member than one run; ms per member-step, one run \d+\.\d+; populations of 7: \d+\.\d+; measured on the first runs: seed 1 alone, seeds 2–8 as one population; cached in ", first.Output);
        Assert.Contains("Quick: BayesOpt: one run per process (auto: BayesOpt does not stack its runs)", first.Output);
        Assert.Contains("member 6 of a population of 7", Json(Path.Combine(_output, "Quick", "runs", "OursWdLrM", "8", "result.json")).GetProperty("configuration").GetProperty("note").GetString());
        var cache = File.ReadAllText(Path.Combine(_output, "Quick", "population-calibration.json"));
        Assert.Contains(TrainTune.Hosting.Machine.Description(), cache);
        Assert.Equal(17, File.ReadAllLines(Path.Combine(_output, "Quick", "results.csv")).Length);

        var again = DotnetCli.TrainTune("TinyTargets", _output, experiment);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Matches(@"Quick: OursWdLrM: .* per process \(.*; measured \d{4}-\d\d-\d\d \d\d:\d\d UTC, cached in ", again.Output);
        Assert.DoesNotContain("as one population; cached in ", again.Output);
    }

    [Fact]
    public void Population_auto_runs_every_seed_alone_for_a_model_that_does_not_stack_without_running_any_one_after_another()
    {
        var build = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Normed", "-p:TrainTuneInits=4", "-p:TrainTuneMethods=OursWdLrM", "-p:TrainTuneSteps=40");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("Normed: OursWdLrM: one run per process (auto: the model of Normed is not stacked as a population (the host said so before training))", build.Output);
        // Every seed ran in a process of its own: none as a member of a population, none twice.
        for (var seed = 1; seed <= 4; seed++)
        {
            var note = Json(Path.Combine(_output, "Normed", "runs", "OursWdLrM", seed.ToString(), "result.json")).GetProperty("configuration").TryGetProperty("note", out var n) ? n.GetString() : null;
            Assert.DoesNotContain("population", note ?? "");
        }
        Assert.Equal(5, File.ReadAllLines(Path.Combine(_output, "Normed", "results.csv")).Length);
        Assert.Equal(4, Regex.Matches(build.Output, @"Normed: \d/4 OursWdLrM seed \d").Count);
    }

    [Fact]
    public void A_population_that_fails_runs_its_seeds_again_one_per_process_and_each_counts_once()
    {
        // Two populations of two (seeds 1–2 and 3–4), one per core.
        var build = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Crash", "-p:TrainTuneInits=4", "-p:TrainTuneMethods=Random", "-p:TrainTunePopulation=2");
        Assert.NotEqual(0, build.ExitCode);
        foreach (var seeds in new[] { "1–2", "3–4" })
            Assert.Matches($@"Crash: Random: the population of seeds {seeds} failed \(exit code (134|-6|6): .*Crash target aborts on purpose\); its runs are repeated one per process", build.Output);
        // Each seed ran once more alone and is counted once, with its own process's failure: its message, not its stack.
        var counted = Regex.Matches(build.Output, @"Crash: \d/4 Random seed (\d): exit code (134|-6|6): [^\n]*Crash target aborts on purpose").Select(m => m.Groups[1].Value).Order().ToList();
        Assert.Equal(["1", "2", "3", "4"], counted);
        var csv = File.ReadAllLines(Path.Combine(_output, "Crash", "results.csv"));
        Assert.Equal(["Random,1", "Random,2", "Random,3", "Random,4"], csv.Skip(1).Select(l => string.Join(",", l.Split(',').Take(2))));
        Assert.Contains("| Random | 4 | 0 | 4 |", File.ReadAllText(Path.Combine(_output, "Crash", "results.md")));
    }

    [Fact]
    public void Two_runs_of_a_target_in_the_host_are_identical_and_the_host_uses_only_the_cores_it_may()
    {
        var build = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick");
        Assert.True(build.ExitCode == 0, build.Output);
        var bin = Path.Combine(DotnetCli.Fixture("TinyTargets"), "bin", "Debug", "net10.0");
        (int ExitCode, string Output) Host(string request, params string[] prefix)
        {
            var runtimeConfig = Path.Combine(DotnetCli.RepositoryRoot(), "src", "Host", "bin", "Debug", "net10.0", "TrainTune.Host.runtimeconfig.json");
            var start = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : "dotnet") { WorkingDirectory = bin, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in prefix.Skip(1).Concat(prefix.Length > 0 ? ["dotnet"] : []))
                start.ArgumentList.Add(argument);
            foreach (var argument in new[] { "exec", "--depsfile", "TinyTargets.deps.json", "--runtimeconfig", runtimeConfig, "TrainTune.Host.dll", "run", request })
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output + error.Result);
        }
        JsonElement Run(string folder, params string[] prefix)
        {
            var (exitCode, output) = Host(new Hosting.HostRunRequest("TinyTargets.dll", "Quick", Path.Combine(_output, folder)).ToJson(), prefix);
            Assert.True(exitCode == 0, output);
            return Json(Path.Combine(_output, folder, "result.json"));
        }

        var first = Run("first");
        var second = Run("second");
        var pinned = Run("pinned", "taskset", "-c", "0");
        foreach (var run in new[] { second, pinned })
        {
            foreach (var loss in new[] { "train_loss", "validation_loss", "test_loss" })
                Assert.Equal(first.GetProperty("result").GetProperty(loss).GetDouble(), run.GetProperty("result").GetProperty(loss).GetDouble());
            Assert.Equal(first.GetProperty("result").GetProperty("final_hyperparameters").GetRawText(), run.GetProperty("result").GetProperty("final_hyperparameters").GetRawText());
        }
        Assert.Equal(Environment.ProcessorCount, first.GetProperty("configuration").GetProperty("threads").GetProperty("cores").GetInt32());
        Assert.Equal(1, pinned.GetProperty("configuration").GetProperty("threads").GetProperty("cores").GetInt32());

        // A request the host cannot read is bad input (exit code 2) with the reason.
        var broken = Host("{\"assembly\": ");
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("error: ", broken.Output);
        var unknown = Host(new Hosting.HostRunRequest("TinyTargets.dll", "Nope", Path.Combine(_output, "nope")).ToJson());
        Assert.Equal((2, true), (unknown.ExitCode, unknown.Output.Contains("No training target named 'Nope'; the valid ones are: Quick, PerWeight, Long, Normed, Crash.")));
    }

    [SkippableFact]
    public void The_readmes_main_command_tunes_the_three_uci_targets()
    {
        Data.RealData.Root();
        var outcome = DotnetCli.Run(DotnetCli.RepositoryRoot(), "build", "samples/UciRegression", "-t:TrainTune", "--disable-build-servers", "-nodeReuse:false",
            $"-p:TrainTuneOutputDir={_output}", "-p:TrainTuneSteps=300");
        Assert.True(outcome.ExitCode == 0, outcome.Output);
        foreach (var target in new[] { "Energy", "Kin8nm", "Power" })
        {
            var report = Json(Path.Combine(_output, target, "report.json"));
            Assert.Equal(300, report.GetProperty("steps_completed").GetInt32());
            Assert.True(report.GetProperty("test_loss").GetDouble() < 1.0, $"{target}: normalised test MSE {report.GetProperty("test_loss")}");
        }
        Assert.Contains("MSE x 1000", File.ReadAllText(Path.Combine(_output, "Kin8nm", "report.md")));
    }

    [Fact]
    public void A_project_without_training_targets_gets_a_warning_that_says_how_to_add_one()
    {
        var outcome = DotnetCli.TrainTune("NoTargets", _output);
        Assert.True(outcome.ExitCode == 0, outcome.Output);
        Assert.Contains("warning TT9012: This project has no training targets", outcome.Output);
        Assert.Contains("[TrainingTarget]", outcome.Output);
    }
}
