// The child process that `dotnet build -t:TrainTune` starts for each training target:
//   TrainTune.Host list ASSEMBLY        prints the assembly's training targets as one protocol line
//   TrainTune.Host run REQUEST-JSON     runs one target (HostRunRequest, written by the build task)
//   TrainTune.Host run @FILE            the same, the request read from FILE (a Slurm array task's)
// Exits 0 on success, 2 on bad input (the message on standard error), 3 on a failure, 4 when a
// population that had to be stacked cannot be (nothing run). The
// request is JSON, not options, so that the host needs nothing beyond the user's own
// dependencies: it runs with the user's deps.json.
using TrainTune;
using TrainTune.Hosting;

// Before any tensor exists: how libtorch's large blocks are allocated (see NativeAllocator).
if (args is ["run", _]) NativeAllocator.EnsureLargeBlocksStayInTheHeap();

return args switch
{
    ["list", var assembly] => Guard(() => TargetRunner.List(assembly, Console.Out)),
    ["run", var request] => Guard(() => TargetRunner.Run(HostRunRequest.FromJson(request.StartsWith('@') ? File.ReadAllText(request[1..]) : request), Console.Out)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: TrainTune.Host list ASSEMBLY | run REQUEST-JSON | run @REQUEST-FILE (started by dotnet build -t:TrainTune)");
    return HostProtocol.ExitBadInput;
}

static int Guard(Action action)
{
    try
    {
        action();
        return HostProtocol.ExitOk;
    }
    catch (PopulationNotStacked e)
    {
        Console.Error.WriteLine($"not stacked: {e.Message}");
        return HostProtocol.ExitNotStacked;
    }
    catch (Exception e) when (e is TrainTuneException or System.Text.Json.JsonException or IOException)
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
