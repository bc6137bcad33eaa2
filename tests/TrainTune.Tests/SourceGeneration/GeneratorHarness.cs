using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using TrainTune.Generator;

namespace TrainTune.Tests.SourceGeneration;

/// <summary>Compiles user code against TorchSharp and the runtime and runs the generator over it.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Parse);

    static readonly ImmutableArray<MetadataReference> References =
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.") || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => MetadataReference.CreateFromFile(p)),
        MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(TuningRun).Assembly.Location),
    ];

    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create("UserCode",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(params AdditionalText[] additionalTexts) =>
        CSharpGeneratorDriver.Create([new TrainTuneGenerator().AsSourceGenerator()], additionalTexts, ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>The generator's run with additional files (path, text).</summary>
    public static (GeneratorRunResult Result, Compilation Output) RunWith(IEnumerable<(string Path, string Text)> additionalFiles, params string[] sources)
    {
        var texts = additionalFiles.Select(f => (AdditionalText)new InMemoryText(f.Path, f.Text)).ToArray();
        var driver = Driver(texts).RunGeneratorsAndUpdateCompilation(Compile(sources), out var output, out _);
        return (driver.GetRunResult().Results.Single(), output);
    }

    sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path => path;

        public override Microsoft.CodeAnalysis.Text.SourceText GetText(CancellationToken cancellationToken = default) =>
            Microsoft.CodeAnalysis.Text.SourceText.From(text);
    }

    /// <summary>The generator's run over <paramref name="sources"/> and the compilation that includes its output.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(params string[] sources)
    {
        var driver = Driver().RunGeneratorsAndUpdateCompilation(Compile(sources), out var output, out _);
        return (driver.GetRunResult().Results.Single(), output);
    }

    /// <summary>Compiler errors and warnings of the output, with CS8618 handled as the suppressor would.</summary>
    public static async Task<ImmutableArray<Diagnostic>> CompilerDiagnostics(Compilation output)
    {
        var withSuppressor = output.WithAnalyzers([new HyperparameterFieldSuppressor()]);
        var all = await withSuppressor.GetAllDiagnosticsAsync();
        return [.. all.Where(d => !d.IsSuppressed && d.Severity >= DiagnosticSeverity.Warning)];
    }

    /// <summary>Every generated file, in hint-name order, with a header line each.</summary>
    public static string GeneratedText(GeneratorRunResult result) =>
        string.Concat(result.GeneratedSources.OrderBy(s => s.HintName, StringComparer.Ordinal)
            .Select(s => $"//// {s.HintName}\n{s.SourceText.ToString().Replace("\r\n", "\n")}"));
}
