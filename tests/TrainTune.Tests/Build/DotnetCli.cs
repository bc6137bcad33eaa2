using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace TrainTune.Tests.Build;

/// <summary>Runs the dotnet CLI as a user would, from this repository, without build servers that outlive the test.</summary>
internal static class DotnetCli
{
    /// <summary>Tests that run dotnet builds of this repository's projects share one collection, so that they never build at once.</summary>
    public const string Collection = "dotnet builds";

    public static string RepositoryRoot([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    public static string Fixture(string name) => Path.Combine(RepositoryRoot(), "tests", "fixtures", name);

    public sealed record Outcome(int ExitCode, string Output);

    public static Outcome Run(string workingDirectory, params string[] arguments) => Run(workingDirectory, TimeSpan.FromMinutes(10), null, arguments);

    public static Outcome Run(string workingDirectory, TimeSpan timeout, Action<Process>? whileRunning, params string[] arguments) =>
        Run(workingDirectory, timeout, whileRunning, null, arguments);

    /// <param name="environment">Variables to set for the process (e.g. a PATH without a tool).</param>
    public static Outcome Run(string workingDirectory, TimeSpan timeout, Action<Process>? whileRunning, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_DO_NOT_USE_MSBUILD_SERVER"] = "1";
        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        whileRunning?.Invoke(process);
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(" ", arguments)} did not finish in {timeout}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return new Outcome(process.ExitCode, output.ToString());
    }

    /// <summary>dotnet build FIXTURE -t:TrainTune with the given properties, no build servers kept.</summary>
    public static Outcome TrainTuneWith(IReadOnlyDictionary<string, string> environment, string fixture, string outputDirectory, params string[] properties) =>
        Run(RepositoryRoot(), TimeSpan.FromMinutes(10), null, environment,
            ["build", Fixture(fixture), "-t:TrainTune", "--disable-build-servers", "-nodeReuse:false", $"-p:TrainTuneOutputDir={outputDirectory}", .. properties]);

    public static Outcome TrainTune(string fixture, string outputDirectory, params string[] properties) =>
        Run(RepositoryRoot(), ["build", Fixture(fixture), "-t:TrainTune", "--disable-build-servers", "-nodeReuse:false", $"-p:TrainTuneOutputDir={outputDirectory}", .. properties]);
}
