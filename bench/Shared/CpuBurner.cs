using System.Diagnostics;

/// <summary>
/// Another CPU-bound process, as on any busy workstation or CI machine: a shell loop that keeps
/// one core busy until disposed.
/// </summary>
sealed class CpuBurner : IDisposable
{
    readonly Process _process;

    CpuBurner(Process process) => _process = process;

    public static CpuBurner Start()
    {
        var process = Process.Start(new ProcessStartInfo("sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("Could not start the CPU burner (sh).");
        Thread.Sleep(200); // let it reach the scheduler
        return new CpuBurner(process);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
