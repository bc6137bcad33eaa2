extern alias build;
using System.Text.Json;
using build::TrainTune.Build.Running;
using build::TrainTune.Hosting;

namespace TrainTune.Tests.Build;

public class TaskLogicTests
{
    static string Progress(int step, int total = 100) =>
        HostProtocol.ProgressPrefix + JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["step"] = step,
            ["total_steps"] = total,
            ["train_loss"] = 0.5,
            ["validation_loss"] = 0.25,
            ["hyperparameters"] = new Dictionary<string, double> { ["learningRate"] = 0.001, ["momentum"] = 0.9 },
            ["elapsed_seconds"] = step / 10.0,
        });

    [Fact]
    public void Progress_is_logged_at_most_once_per_interval_and_always_at_the_end()
    {
        var now = new DateTime(2026, 1, 1);
        var reporter = new ProgressReporter("Energy", TimeSpan.FromSeconds(5), () => now);
        var logged = new List<string>();
        for (var step = 10; step <= 100; step += 10)
        {
            if (reporter.Consider(Progress(step)) is { } line) logged.Add(line);
            now += TimeSpan.FromSeconds(2);
        }
        Assert.Equal(4, logged.Count); // steps 10, 40, 70 (every 6 s) and the last one
        Assert.Equal("Energy: step 10/100 (10%), train 0.5, validation 0.25 | learningRate 0.001 momentum 0.9 | 9 s left", logged[0]);
        Assert.StartsWith("Energy: step 100/100 (100%)", logged[^1]);
        Assert.Null(reporter.Consider("ordinary output"));
        Assert.Null(reporter.Consider(HostProtocol.ProgressPrefix + "{broken"));
    }

    [Fact]
    public void The_time_left_counts_the_final_evaluation()
    {
        var progress = new ProgressLine(100, 100, 0.5, 0.25, new Dictionary<string, double>(), 10, EvaluationSeconds: 12);
        Assert.EndsWith("| 12 s left", ProgressReporter.Format("Cnn", progress));
        Assert.EndsWith("| 22 s left", ProgressReporter.Format("Cnn", progress with { Step = 50 }));
        Assert.EndsWith("| 10 s left", ProgressReporter.Format("Cnn", progress with { Step = 50, EvaluationSeconds = null }));
    }

    [Fact]
    public void A_run_reports_its_final_evaluations_expected_time_from_the_first_block_on()
    {
        var seen = new List<RunProgress>();
        TuningRun.Of(() => new Training.SmallCnn(), new Sgd(0.1), Loss.CrossEntropy).On(Training.SmallCnn.Task()).ForSteps(30).WithBatchSize(16)
            .InPrecision(TorchSharp.torch.ScalarType.Float64).OnProgress(seen.Add).Run();
        Assert.Equal(3, seen.Count);
        Assert.All(seen, p => Assert.True(p.EvaluationSeconds > 0));
    }

    /// <summary>The build's errors for the knobs given positionally (empty: unset), as the targets file passes them.</summary>
    static IReadOnlyList<string> Errors(string steps, string method, string seed, string device, string resume, string warmStart, string outputDirectory,
        string threads = "", string starts = "") =>
        Errors(new()
        {
            ["Steps"] = steps,
            ["Method"] = method,
            ["Seed"] = seed,
            ["Device"] = device,
            ["Resume"] = resume,
            ["WarmStart"] = warmStart,
            ["OutputDir"] = outputDirectory,
            ["Threads"] = threads,
            ["Starts"] = starts
        });

    static IReadOnlyList<string> Errors(Dictionary<string, string?> knobs)
    {
        knobs.TryAdd("OutputDir", Path.GetTempPath());
        BuildKnobs.Read(knobs, out var errors);
        return errors;
    }

    [Fact]
    public void Invalid_knobs_are_errors_that_name_the_knob()
    {
        var errors = Errors("-5", "Bogus", "x", "tpu", "maybe", "yes", "/proc/traintune-cannot-write", "0").ToList();
        Assert.Equal(8, errors.Count);
        Assert.StartsWith("TrainTuneSteps='-5'", errors[0]);
        Assert.StartsWith("TrainTuneMethod='Bogus'", errors[1]);
        Assert.Contains("OnePass, Fixed, Random, RandomLrMultiplier, Random3Batched, Lorraine, Baydin, OursWdLr, OursWdLrM, OursWdHdlrM, DiffThroughOpt, BayesOpt, ScheduleFree, Prodigy, DAdaptation, DoG, OursProdigy, OursScheduleFree", errors[1]);
        Assert.StartsWith("TrainTuneSeed='x'", errors[2]);
        Assert.StartsWith("TrainTuneDevice='tpu'", errors[3]);
        Assert.Equal("TrainTuneThreads='0' is not valid: use auto (the default: chosen from each run's work per step) or a positive whole number of libtorch threads.", errors[4]);
        Assert.StartsWith("TrainTuneResume='maybe'", errors[5]);
        Assert.StartsWith("TrainTuneWarmStart='yes'", errors[6]);
        Assert.StartsWith("TrainTuneOutputDir='/proc/traintune-cannot-write' cannot be written", errors[7]);
        Assert.Empty(Errors("100", "onepass", "7", "cuda:1", "true", "False", Path.GetTempPath(), "auto"));
        Assert.Empty(Errors("100", "onepass", "7", "cuda:1", "true", "False", Path.GetTempPath(), "2"));
        Assert.Empty(Errors("", "", "", "", "", "", Path.GetTempPath()));
        Assert.Equal(["TrainTuneResume=true cannot resume TrainTuneMethod=BayesOpt: a search over whole runs keeps no checkpoint; run it again without TrainTuneResume."],
            Errors("", "bayesopt", "", "", "true", "", Path.GetTempPath()));
        Assert.Single(Errors("", "Random3Batched", "", "", "True", "", Path.GetTempPath()));
        Assert.Empty(Errors("", "BayesOpt", "", "", "false", "", Path.GetTempPath()));
        Assert.Equal(["TrainTuneStarts=3 cannot be combined with TrainTuneMethod=Prodigy: its optimiser starts from its own defaults, and the other starts would draw the paper's random values for SGD's hyperparameters; leave TrainTuneStarts at 1."],
            Errors("", "prodigy", "", "", "", "", Path.GetTempPath(), starts: "3"));
    }

    [Fact]
    public void The_knobs_are_read_once_into_one_typed_request_that_the_host_receives()
    {
        var knobs = BuildKnobs.Read(new Dictionary<string, string?>
        {
            ["Steps"] = "300",
            ["Method"] = "oursWdLrM",
            ["Seed"] = "4",
            ["Threads"] = "auto",
            ["ValidationBatchSize"] = "64",
            ["TensorBoard"] = "true",
            ["Methods"] = "Random%3BBaydin",
            ["Inits"] = "8",
            ["Population"] = "4",
            ["Scheduler"] = "slurm",
            ["SlurmCpus"] = "2",
            ["OutputDir"] = Path.GetTempPath(),
        }, out var errors);
        Assert.Empty(errors);
        Assert.Equal(new RunKnobs(Steps: 300, Method: "oursWdLrM", Seed: 4, ValidationBatchSize: 64, TensorBoard: true), knobs.Run);
        Assert.Equal(["Random", "Baydin"], knobs.Methods);
        Assert.Equal((8, 4, true, 2), (knobs.Inits, knobs.Population, knobs.OnSlurm, knobs.Slurm.Cpus));
        // The request carries the run's knobs to the host as they were read.
        var request = new HostRunRequest("a.dll", "T", Path.GetTempPath(), knobs.Run);
        Assert.Equal(knobs.Run, HostRunRequest.FromJson(request.ToJson()).Run);
        Assert.Equal(["TrainTuneValidationBatchSize='0' is not a positive whole number of validation rows per hyper step."],
            Errors(new() { ["ValidationBatchSize"] = "0" }));
    }

    [Fact]
    public void Target_lists_accept_commas_and_escaped_semicolons()
    {
        Assert.Equal(["Energy", "Power", "Kin8nm"], BuildKnobs.SplitNames("Energy, Power%3BKin8nm"));
        Assert.Equal(["Energy", "Power"], BuildKnobs.SplitNames("Energy;Power;"));
        Assert.Empty(BuildKnobs.SplitNames("  "));
    }

    [Fact]
    public void Every_method_in_the_catalogue_is_accepted_by_the_build_the_host_and_the_experiment_protocol()
    {
        var run = global::TrainTune.TuningRun.Of(Training.Tasks.Mlp, new global::TrainTune.SgdMomentum(), global::TrainTune.Loss.MeanSquaredError).On(Training.Tasks.Regression());
        var target = new global::TrainTune.TrainingTarget("Tiny", "Tiny", () => run);
        var folder = Path.GetTempPath();
        foreach (var method in MethodCatalogue.All)
        {
            // The build: the knob check of one target and of an experiment.
            Assert.Empty(Errors("", method.Name.ToLowerInvariant(), "", "", "", "", folder));
            Assert.Empty(Errors(new() { ["Inits"] = "4", ["Methods"] = method.Name }));
            // The runtime: the same name, the same kind.
            Assert.Equal(method.Name, global::TrainTune.ExperimentProtocol.Canonical(method.Name.ToLowerInvariant()));
            Assert.Equal(method.Kind == MethodKind.Search, global::TrainTune.ExperimentProtocol.IsSearch(method.Name));
            Assert.Equal(method.Kind == MethodKind.OwnRule, global::TrainTune.ExperimentProtocol.UsesItsOwnRule(method.Name));
            // The host: prepares the target's run with it (a search runs the target with fixed hyperparameters).
            var request = new global::TrainTune.Hosting.HostRunRequest("Tiny.dll", "Tiny", folder, new global::TrainTune.Hosting.RunKnobs(Method: method.Name), RandomInitial: true);
            var search = method.Kind == MethodKind.Search ? method.Name : null;
            var prepared = global::TrainTune.Hosting.TargetRunner.Prepare(request, target, run, search, seed: 5);
            var expected = search is null ? global::TrainTune.ExperimentProtocol.Apply(method.Name, run.WithSeed(5)).Method : global::TrainTune.Method.Fixed();
            Assert.Equal(Describe(expected), Describe(prepared.Method));
        }
        Assert.Equal(MethodCatalogue.Names, global::TrainTune.ExperimentProtocol.All);
    }

    static string Describe(global::TrainTune.Method method) => method.Name + JsonSerializer.Serialize(method, method.GetType());

    [Fact]
    public void A_refusal_of_the_catalogue_says_the_same_in_the_build_and_the_host()
    {
        var run = global::TrainTune.TuningRun.Of(Training.Tasks.Mlp, new global::TrainTune.SgdMomentum(), global::TrainTune.Loss.MeanSquaredError).On(Training.Tasks.Regression());
        var target = new global::TrainTune.TrainingTarget("Tiny", "Tiny", () => run);
        var folder = Path.GetTempPath();
        foreach (var (method, resume, starts) in new[] { ("BayesOpt", true, (int?)null), ("Random3Batched", false, (int?)2), ("Prodigy", false, (int?)3) })
        {
            var build = Errors("", method, "", "", resume.ToString(), "", folder, starts: starts?.ToString() ?? "").Single();
            var request = new global::TrainTune.Hosting.HostRunRequest(typeof(TaskLogicTests).Assembly.Location, "Tiny", folder, new global::TrainTune.Hosting.RunKnobs(Method: method, Resume: resume, Starts: starts));
            var host = Assert.Throws<global::TrainTune.TrainTuneException>(() => global::TrainTune.Hosting.TargetRunner.Run(request, TextWriter.Null));
            Assert.Equal(build, host.Message);
            Assert.Contains($"TrainTuneMethod={method}", build);
        }
    }

    [Fact]
    public void A_child_process_gives_its_exit_code_and_the_tail_of_its_output()
    {
        var lines = new List<string>();
        var outcome = ChildProcess.Run("/bin/sh", ["-c", $"for i in $(seq 1 50); do echo line $i; done; echo '{HostProtocol.ProgressPrefix}{{}}'; echo oops >&2; exit 7"], lines.Add, tailLines: 5);
        Assert.Equal(7, outcome.ExitCode);
        Assert.Equal(51, lines.Count);
        Assert.Equal(["line 46", "line 47", "line 48", "line 49", "line 50", "oops"], outcome.Tail);
        Assert.DoesNotContain(outcome.Tail, l => l.StartsWith(HostProtocol.ProgressPrefix));
    }

    [Fact]
    public void Every_build_code_is_defined_once_and_listed_in_the_readme()
    {
        var root = DotnetCli.RepositoryRoot();
        var sources = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".cs") || f.EndsWith(".targets")) && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                && !f.EndsWith("BuildCodes.cs"))
            .ToDictionary(f => f, File.ReadAllText);
        var defined = typeof(BuildCodes).GetFields().Select(f => (string)f.GetValue(null)!).ToList();
        Assert.Equal(defined.Count, defined.Distinct().Count());
        // Written out only where C# cannot reach: the targets file and the step MSBuild compiles itself.
        var literal = sources.SelectMany(f => System.Text.RegularExpressions.Regex.Matches(f.Value, "TT9[0-9]{3}").Select(m => (File: Path.GetFileName(f.Key), Code: m.Value))).ToList();
        Assert.All(literal, l => Assert.Contains(l.File, new[] { "TrainTune.targets", "GlibcxxCompatibility.cs" }));
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        foreach (var code in defined.Concat(literal.Select(l => l.Code)).Distinct())
            Assert.Matches($@"\| {code} \| (error|warning) \|", readme);
    }
}
