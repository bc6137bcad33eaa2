using System.CommandLine;

namespace TrainTune.Hosting;

/// <summary>
/// The command line of the host process that <c>dotnet build -t:TrainTune</c> starts for each
/// training target: <c>list --assembly A</c> or <c>run --assembly A --target T --output DIR ...</c>.
/// Exits 0 on success, 2 on bad input (with the message on standard error), 3 on a failure.
/// </summary>
internal static class HostProgram
{
    public static int Main(string[] args)
    {
        var assembly = new Option<string>("--assembly") { Description = "The built assembly with [TrainingTarget] methods.", Required = true };
        var target = new Option<string>("--target") { Description = "The training target to run.", Required = true };
        var output = new Option<string>("--output") { Description = "The target's output folder.", Required = true };
        var steps = new Option<int?>("--steps") { Description = "Weight steps (overrides the target's)." };
        var method = new Option<string?>("--method") { Description = $"Tuning method: {string.Join(", ", MethodNames.All)}." };
        var seed = new Option<long?>("--seed") { Description = "Random seed." };
        var device = new Option<string?>("--device") { Description = "cpu, cuda, cuda:N or auto." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the target's checkpoint when there is one." };
        var warmStart = new Option<bool>("--warm-start") { Description = "Start from the previous build's tuned values." };
        var randomInitial = new Option<bool>("--random-init") { Description = "Start from the paper's random initial hyperparameters for the seed." };
        var threads = new Option<string?>("--threads") { Description = "libtorch intra-op threads: auto (the default: from the run's work per step) or a positive number." };
        var cores = new Option<int?>("--cores") { Description = "Cores this run may use when runs share the machine (experiments); default: the process's." };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Hyper steps between checkpoints.", DefaultValueFactory = _ => 20 };

        var list = new Command("list", "Print the training targets of the assembly.") { assembly };
        list.SetAction(parsed => Guard(() => TargetRunner.List(parsed.GetValue(assembly)!, Console.Out)));
        var run = new Command("run", "Run one training target.") { assembly, target, output, steps, method, seed, device, resume, warmStart, randomInitial, threads, cores, checkpointEvery };
        run.SetAction(parsed => Guard(() => TargetRunner.Run(parsed.GetValue(assembly)!, new HostRunOptions(
            parsed.GetValue(target)!, parsed.GetValue(output)!, parsed.GetValue(steps), parsed.GetValue(method), parsed.GetValue(seed),
            parsed.GetValue(device), parsed.GetValue(resume), parsed.GetValue(checkpointEvery), parsed.GetValue(warmStart),
            parsed.GetValue(randomInitial), Threads(parsed.GetValue(threads)), parsed.GetValue(cores)), Console.Out)));
        return new RootCommand("TrainTune host: runs training targets for the build.") { list, run }.Parse(args).Invoke();
    }

    static int? Threads(string? value) =>
        ThreadKnob.Parse(value, "TrainTuneThreads", out var threads) is { } error ? throw new TrainTuneException(error) : threads;

    static int Guard(Action action)
    {
        try
        {
            action();
            return HostProtocol.ExitOk;
        }
        catch (TrainTuneException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return HostProtocol.ExitBadInput;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e}");
            return HostProtocol.ExitFailure;
        }
    }
}
