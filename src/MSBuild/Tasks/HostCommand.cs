namespace TrainTune.Build.Tasks;

/// <summary>How to start the host: dotnet exec with the user's deps.json and the host's runtimeconfig.</summary>
internal static class HostCommand
{
    public static IEnumerable<string> Arguments(string depsFile, string runtimeConfig, string hostAssembly, string verb, string assembly) =>
        ["exec", "--depsfile", depsFile, "--runtimeconfig", runtimeConfig, hostAssembly, verb, "--assembly", assembly];

    public static string Dotnet(string? configured) =>
        !string.IsNullOrEmpty(configured) ? configured! : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
}
