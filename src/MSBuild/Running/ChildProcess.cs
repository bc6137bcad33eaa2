using System.Diagnostics;

namespace TrainTune.Build.Running;

/// <summary>
/// Runs a process to the end, passing each output line on and keeping the last lines of its
/// standard output and of its standard error (the two streams interleave unpredictably, so
/// they are kept apart: the error's last lines are never crowded out).
/// </summary>
internal static class ChildProcess
{
    public sealed record Outcome(int ExitCode, IReadOnlyList<string> Tail);

    public static Outcome Run(string fileName, IEnumerable<string> arguments, Action<string> onOutputLine, int tailLines = 40)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var outputTail = new Queue<string>();
        var errorTail = new Queue<string>();
        var gate = new object();
        void Keep(Queue<string> tail, string line)
        {
            lock (gate)
            {
                tail.Enqueue(line);
                while (tail.Count > tailLines) tail.Dequeue();
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (!e.Data.StartsWith(Hosting.HostProtocol.ProgressPrefix, StringComparison.Ordinal)) Keep(outputTail, e.Data);
            lock (gate) onOutputLine(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) Keep(errorTail, e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        lock (gate) return new Outcome(process.ExitCode, [.. outputTail, .. errorTail]);
    }
}
