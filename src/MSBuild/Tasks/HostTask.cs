using Microsoft.Build.Framework;

namespace TrainTune.Build.Tasks;

/// <summary>A task that starts the host: dotnet exec with the user's deps.json and the host's runtimeconfig.</summary>
public abstract class HostTask : Microsoft.Build.Utilities.Task
{
    [Required] public string Assembly { get; set; } = "";
    [Required] public string DepsFile { get; set; } = "";
    [Required] public string HostAssembly { get; set; } = "";
    [Required] public string HostRuntimeConfig { get; set; } = "";
    public string? Dotnet { get; set; }

    protected string DotnetPath => HostCommand.Dotnet(Dotnet);

    protected List<string> HostArguments(string verb) => HostCommand.Arguments(DepsFile, HostRuntimeConfig, HostAssembly, verb, Assembly).ToList();
}
