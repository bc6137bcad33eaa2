namespace TrainTune.Build.Tasks;

/// <summary>
/// How to start the host: dotnet exec with the user's deps.json and the host's runtimeconfig, then
/// <c>list ASSEMBLY</c> or <c>run REQUEST-JSON</c> (<see cref="Hosting.HostRunRequest"/>).
/// </summary>
internal static class HostCommand
{
    public static IEnumerable<string> Arguments(string depsFile, string runtimeConfig, string hostAssembly, params string[] command) =>
        ["exec", "--depsfile", depsFile, "--runtimeconfig", runtimeConfig, hostAssembly, .. command];

    public static string Dotnet(string? configured) =>
        !string.IsNullOrEmpty(configured) ? configured! : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
}
