// Benchmark of the README's main command: its training targets (a) in one process through the
// library, (b) through `dotnet build -t:TrainTune` as a user runs it, (c) the same while another
// process keeps one core busy. Prints the training times, the fixed cost per target and the ratios.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrainTune;
using TrainTune.Hosting;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var projectOption = new Option<string>("--project") { Description = "The project whose targets run.", DefaultValueFactory = _ => "samples/UciRegression" };
var repeatsOption = new Option<int>("--repeats") { Description = "Rounds of (a), (b), (c), alternating.", DefaultValueFactory = _ => 1 };
var root = new RootCommand("TrainTune benchmark: the main command's targets in process, through the build, and through the build under load.")
{
    projectOption, repeatsOption,
};
root.SetAction(parsed => Bench(Path.GetFullPath(parsed.GetValue(projectOption)!), parsed.GetValue(repeatsOption)));
return root.Parse(args).Invoke();

static int Bench(string project, int repeats)
{
    // The build's own compile must be up to date, as on a user's second run.
    var name = Path.GetFileNameWithoutExtension(Directory.GetFiles(project, "*.csproj").Single());
    Dotnet("build", project, "-v:q");
    var assembly = Path.Combine(project, "bin", "Debug", "net10.0", name + ".dll");
    // Loading the assembly runs its generated registry, which adds its targets to TrainingTarget.All.
    System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(System.Reflection.Assembly.LoadFrom(assembly).ManifestModule.ModuleHandle);
    var targets = TrainingTarget.All;
    Console.WriteLine($"{name}: targets {string.Join(", ", targets.Select(t => t.Name))}; {Machine.Description()}; {repeats} round(s)");

    var rounds = new List<(Dictionary<string, double> InProcess, Build Idle, Build Loaded)>();
    for (var r = 0; r < repeats; r++)
    {
        var inProcess = new Dictionary<string, double>();
        foreach (var target in targets)
        {
            var result = target.Create().Run();
            inProcess[target.Name] = result.Timing!.Training;
            Console.WriteLine($"  (a) {target.Name}: training {result.Timing.Training:F2} s, {result.Threads!.IntraOp} thread(s)");
        }
        var idle = RunBuild(project, loaded: false);
        var busy = RunBuild(project, loaded: true);
        rounds.Add((inProcess, idle, busy));
    }

    Console.WriteLine();
    Console.WriteLine($"{"target",-10} {"(a) in process",15} {"(b) build",11} {"(c) build, loaded",18} {"start (b)",10} {"start (c)",10}");
    foreach (var target in targets.Select(t => t.Name))
        Console.WriteLine($"{target,-10} {Median(rounds.Select(x => x.InProcess[target])),15:F2} {Median(rounds.Select(x => x.Idle.Training[target])),11:F2} "
            + $"{Median(rounds.Select(x => x.Loaded.Training[target])),18:F2} {Median(rounds.Select(x => x.Idle.Start[target])),10:F2} {Median(rounds.Select(x => x.Loaded.Start[target])),10:F2}");
    double Total(Func<(Dictionary<string, double> InProcess, Build Idle, Build Loaded), double> pick) => Median(rounds.Select(pick));
    var a = Total(x => x.InProcess.Values.Sum());
    var b = Total(x => x.Idle.Training.Values.Sum());
    var c = Total(x => x.Loaded.Training.Values.Sum());
    Console.WriteLine($"{"all",-10} {a,15:F2} {b,11:F2} {c,18:F2}");
    Console.WriteLine($"training time ratios (medians of the totals): (b)/(a) = {b / a:F2}, (c)/(a) = {c / a:F2}");
    Console.WriteLine($"fixed cost per target in the build (host process and report, all but training): {Total(x => x.Idle.PerTarget):F2} s idle, {Total(x => x.Loaded.PerTarget):F2} s loaded");
    Console.WriteLine($"  of which process start to first step: {Median(rounds.SelectMany(x => x.Idle.Start.Values)):F2} s idle (median over targets and rounds)");
    Console.WriteLine($"the build's fixed cost (evaluation, up-to-date check, tools, listing): {Total(x => x.Idle.Fixed):F2} s idle, {Total(x => x.Loaded.Fixed):F2} s loaded");
    Console.WriteLine($"whole command: {Total(x => x.Idle.Wall):F1} s idle, {Total(x => x.Loaded.Wall):F1} s loaded");
    return 0;
}

static Build RunBuild(string project, bool loaded)
{
    var output = Directory.CreateTempSubdirectory("traintune-bench-").FullName;
    try
    {
        using var burner = loaded ? CpuBurner.Start() : null;
        var stopwatch = Stopwatch.StartNew();
        var log = Dotnet("build", project, "-t:TrainTune", $"-p:TrainTuneOutputDir={output}", "-clp:PerformanceSummary");
        var wall = stopwatch.Elapsed.TotalSeconds;
        // The targets that run each training target and write its report: the build's time per target.
        var runEach = Regex.Match(log, @"^\s*(\d+) ms\s+_TrainTuneRunEach\s", RegexOptions.Multiline) is { Success: true } m
            ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) / 1000 : throw new InvalidOperationException("No _TrainTuneRunEach in the performance summary.");
        var training = new Dictionary<string, double>();
        var start = new Dictionary<string, double>();
        foreach (var folder in Directory.GetDirectories(output))
        {
            var report = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "report.json")))!;
            training[Path.GetFileName(folder)] = report["timing"]!["training"]!.GetValue<double>();
            start[Path.GetFileName(folder)] = report["timing"]!["process_start_to_first_step"]!.GetValue<double>();
        }
        var perTarget = (runEach - training.Values.Sum()) / training.Count;
        Console.WriteLine($"  ({(loaded ? "c" : "b")}) build{(loaded ? " under load" : "")}: {wall:F1} s; training {string.Join(", ", training.Select(t => $"{t.Key} {t.Value:F2} s"))}; {perTarget:F2} s per target besides training");
        return new Build(training, start, perTarget, wall - runEach, wall);
    }
    finally
    {
        Directory.Delete(output, recursive: true);
    }
}

static string Dotnet(params string[] arguments)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in arguments) start.ArgumentList.Add(argument);
    using var process = Process.Start(start)!;
    var error = process.StandardError.ReadToEndAsync();
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0) throw new InvalidOperationException($"dotnet {string.Join(" ", arguments)} failed ({process.ExitCode}):\n{output}\n{error.Result}");
    return output;
}

static double Median(IEnumerable<double> values)
{
    var s = values.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}

sealed record Build(Dictionary<string, double> Training, Dictionary<string, double> Start, double PerTarget, double Fixed, double Wall);
