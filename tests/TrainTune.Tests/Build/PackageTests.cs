using System.Text.Json;

namespace TrainTune.Tests.Build;

/// <summary>The packed TrainTune package, consumed from a local folder by a fresh project, the way a user would.</summary>
[Collection(DotnetCli.Collection)]
public class PackageTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-package-").FullName;
    readonly string _version = $"0.1.0-test{DateTime.UtcNow:yyyyMMddHHmmssfff}";

    public void Dispose()
    {
        Directory.Delete(_folder, recursive: true);
        // Leave no test version in the package cache.
        var cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "traintune", _version);
        if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
    }

    [Fact]
    public void A_fresh_project_that_references_the_packed_package_runs_its_training_target()
    {
        var feed = Path.Combine(_folder, "feed");
        var pack = DotnetCli.Run(DotnetCli.RepositoryRoot(), "pack", "src/Runtime", "-o", feed, $"-p:Version={_version}", "--disable-build-servers", "-nodeReuse:false");
        Assert.True(pack.ExitCode == 0, pack.Output);

        var project = Path.Combine(_folder, "Consumer");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="TrainTune" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            using TorchSharp;
            using TrainTune;
            using static TorchSharp.torch;

            System.Console.WriteLine("dotnet build -t:TrainTune runs the targets.");

            /// <summary>A user's own rule, compiled by the packaged generator.</summary>
            [WeightUpdate]
            public partial class ScaledSgd
            {
                [Hyperparameter(Initial = 1e-2, Transform = Transform.Log10, Min = 1e-8, Max = 1)]
                private Tensor step;

                private Tensor Step(Tensor weight, Tensor grad) => step * grad;
            }

            public static class Targets
            {
                [TrainingTarget]
                public static TuningRun Tiny()
                {
                    var inputs = torch.randn(64, 3, generator: new torch.Generator(1));
                    var targets = inputs.sum(1, keepdim: true);
                    var data = new TrainingData(new Split(inputs, targets), new Split(inputs, targets));
                    return TuningRun.Of(() => nn.Linear(3, 1), new ScaledSgd(), Loss.MeanSquaredError).On(data).Tune(Method.OnePass()).ForSteps(100);
                }
            }
            """);

        var output = Path.Combine(_folder, "out");
        var build = DotnetCli.Run(project, "build", "-t:TrainTune", $"-p:TrainTuneOutputDir={output}", "--disable-build-servers", "-nodeReuse:false");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("Tiny: step 100/100", build.Output);
        foreach (var file in new[] { "report.md", "report.json", "record.jsonl", "losses.svg", "hyperparameters.svg", "tuned.json" })
            Assert.True(File.Exists(Path.Combine(output, "Tiny", file)), $"Tiny/{file} is missing");
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "Tiny", "report.json"))).RootElement;
        Assert.Equal("step", report.GetProperty("hyperparameters").EnumerateObject().Single().Name);
        Assert.True(report.GetProperty("validation_loss").GetDouble() < 1.0);
    }
}
