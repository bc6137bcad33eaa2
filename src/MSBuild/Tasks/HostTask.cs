using Microsoft.Build.Framework;

namespace TrainTune.Build.Tasks;

/// <summary>A task that starts the host: dotnet exec with the user's deps.json and the host's runtimeconfig.</summary>
public abstract class HostTask : Microsoft.Build.Utilities.Task
{
    // Public only because MSBuild loads public task classes; nothing outside this assembly derives from it.
    private protected HostTask() { }

    [Required] public string Assembly { get; set; } = "";
    [Required] public string DepsFile { get; set; } = "";
    [Required] public string HostAssembly { get; set; } = "";
    [Required] public string HostRuntimeConfig { get; set; } = "";
    public string? Dotnet { get; set; }

    protected string DotnetPath => HostCommand.Dotnet(Dotnet);

    /// <summary>The host listing the assembly's training targets.</summary>
    private protected List<string> ListArguments() => HostCommand.Arguments(DepsFile, HostRuntimeConfig, HostAssembly, "list", Assembly).ToList();

    /// <summary>The host running one target: <c>run REQUEST-JSON</c>.</summary>
    private protected List<string> RunArguments(Hosting.HostRunRequest request) => RunArgumentsFor(DepsFile, HostRuntimeConfig, HostAssembly, request);

    internal static List<string> RunArgumentsFor(string depsFile, string runtimeConfig, string hostAssembly, Hosting.HostRunRequest request) =>
        HostCommand.Arguments(depsFile, runtimeConfig, hostAssembly, "run", request.ToJson()).ToList();
}
