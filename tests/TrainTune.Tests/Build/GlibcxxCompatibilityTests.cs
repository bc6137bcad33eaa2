using System.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TrainTune.Build;

namespace TrainTune.Tests.Build;

public class GlibcxxCompatibilityTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-elf-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A copy of TorchSharp's library as shipped in the NuGet cache (never the build output's copy).</summary>
    string ShippedLibrary()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var shipped = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(shipped), $"expected TorchSharp's native library at {shipped}");
        var copy = Path.Combine(_folder, "libLibTorchSharp.so");
        File.Copy(shipped, copy);
        return copy;
    }

    string FakeLibStdCxx(bool withVersion)
    {
        var path = Path.Combine(_folder, withVersion ? "new-libstdc++.so.6" : "old-libstdc++.so.6");
        File.WriteAllText(path, "\0GLIBCXX_3.4.29\0GLIBCXX_3.4.30\0" + (withVersion ? "GLIBCXX_3.4.31\0GLIBCXX_3.4.32\0" : ""));
        return path;
    }

    static string ReadElfVersions(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("readelf", ["-V", path]) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    static (bool Ok, TrainTunePatchGlibcxx Task, CollectingEngine Engine) RunTask(string library, string host)
    {
        var engine = new CollectingEngine();
        var task = new TrainTunePatchGlibcxx { BuildEngine = engine, Libraries = [new TaskItem(library)], HostLibStdCxx = host };
        return (task.Execute(), task, engine);
    }

    [Fact]
    public void Shipped_library_gets_only_the_weak_flag_of_its_glibcxx_3_4_32_need()
    {
        var library = ShippedLibrary();
        var before = File.ReadAllBytes(library);
        var written = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(library, written);
        Assert.Contains("Name: GLIBCXX_3.4.32  Flags: none", ReadElfVersions(library));

        Assert.Equal(GlibcxxPatchOutcome.Patched, GlibcxxCompatibility.Apply(library));
        // Same size and timestamp as the copy: the build's incremental copy leaves it alone afterwards.
        Assert.Equal(written, File.GetLastWriteTimeUtc(library));

        var after = File.ReadAllBytes(library);
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        Assert.Single(changed);
        Assert.Equal(0x2, after[changed[0]] ^ before[changed[0]]);
        Assert.Contains("Name: GLIBCXX_3.4.32  Flags: WEAK", ReadElfVersions(library));
        Assert.Equal(GlibcxxPatchOutcome.AlreadyPatched, GlibcxxCompatibility.Apply(library));
    }

    [Fact]
    public void Task_patches_when_the_host_lacks_the_version_and_says_so()
    {
        var library = ShippedLibrary();
        var (ok, task, engine) = RunTask(library, FakeLibStdCxx(withVersion: false));
        Assert.True(ok);
        Assert.Single(task.PatchedLibraries);
        Assert.Contains(engine.Messages, m => m.Contains("marked that version need weak"));
        Assert.Contains("Flags: WEAK", ReadElfVersions(library));
    }

    [Fact]
    public void Task_leaves_the_library_untouched_when_the_host_has_the_version()
    {
        var library = ShippedLibrary();
        var before = File.ReadAllBytes(library);
        var (ok, task, _) = RunTask(library, FakeLibStdCxx(withVersion: true));
        Assert.True(ok);
        Assert.Empty(task.PatchedLibraries);
        Assert.Equal(before, File.ReadAllBytes(library));
    }

    [Fact]
    public void Task_refuses_a_file_that_is_not_the_expected_library()
    {
        var impostor = Path.Combine(_folder, "libLibTorchSharp.so");
        File.WriteAllBytes(impostor, [.. "not an ELF file"u8]);
        var (ok, _, engine) = RunTask(impostor, FakeLibStdCxx(withVersion: false));
        Assert.False(ok);
        Assert.Contains(engine.Errors, e => e.Contains("will not patch") && e.Contains("not an ELF file"));
        Assert.Equal("not an ELF file"u8.ToArray(), File.ReadAllBytes(impostor));
    }

    [Fact]
    public void A_library_whose_glibcxx_3_4_32_need_covers_other_symbols_is_refused()
    {
        var library = ShippedLibrary();
        var bytes = File.ReadAllBytes(library);
        // Rename the only symbol bound to the version: the file is then not the expected library.
        var name = System.Text.Encoding.ASCII.GetBytes(GlibcxxCompatibility.OnlySymbol);
        var at = bytes.AsSpan().IndexOf(name);
        bytes[at + name.Length - 1] = (byte)'w';
        File.WriteAllBytes(library, bytes);
        var error = Assert.Throws<InvalidDataException>(() => GlibcxxCompatibility.Apply(library));
        Assert.Contains("used by other symbols", error.Message);
    }

    [Fact]
    public void Host_version_is_read_from_libstdcxx()
    {
        Assert.True(GlibcxxCompatibility.HostHasVersion(FakeLibStdCxx(withVersion: true)));
        Assert.False(GlibcxxCompatibility.HostHasVersion(FakeLibStdCxx(withVersion: false)));
        Assert.False(GlibcxxCompatibility.HostHasVersion(Path.Combine(_folder, "missing.so")));
    }

    sealed class CollectingEngine : IBuildEngine
    {
        public List<string> Messages { get; } = [];
        public List<string> Errors { get; } = [];
        public bool ContinueOnError => false;
        public int LineNumberOfTaskNode => 0;
        public int ColumnNumberOfTaskNode => 0;
        public string ProjectFileOfTaskNode => "test.proj";
        public bool BuildProjectFile(string projectFileName, string[] targetNames, System.Collections.IDictionary globalProperties, System.Collections.IDictionary targetOutputs) => true;
        public void LogCustomEvent(CustomBuildEventArgs e) { }
        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e.Message ?? "");
        public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e.Message ?? "");
        public void LogWarningEvent(BuildWarningEventArgs e) => Messages.Add(e.Message ?? "");
    }
}
