using System.Runtime.CompilerServices;

namespace TrainTune.Tests.SourceGeneration;

/// <summary>
/// Strict snapshot comparison: the text must equal _snapshots/NAME.verified.cs exactly. A
/// missing or different snapshot fails and writes NAME.received.cs beside it; with
/// TRAINTUNE_ACCEPT_SNAPSHOTS=1 the received text becomes the snapshot instead.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "TRAINTUNE_ACCEPT_SNAPSHOTS";

    public static void Match(string name, string actual, [CallerFilePath] string callerFile = "")
    {
        var folder = Path.Combine(Path.GetDirectoryName(callerFile)!, "_snapshots");
        var verified = Path.Combine(folder, name + ".verified.cs");
        var received = Path.Combine(folder, name + ".received.cs");
        var expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No snapshot {verified}; wrote {received}. Review it and rerun with {AcceptVariable}=1 to accept."
            : $"Generated code differs from {verified}; wrote {received}. Diff the two and rerun with {AcceptVariable}=1 to accept.");
    }
}
