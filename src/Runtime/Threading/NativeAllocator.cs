using System.Runtime.InteropServices;

namespace TrainTune.Hosting;

/// <summary>
/// glibc's malloc hands every large block to mmap and back on free, so each operation on a large
/// tensor pays for fresh, zeroed pages; when it does depends on its dynamic threshold, so the same
/// run is fast one time and several times slower the next (README, "Benchmark"). A run's process
/// raises the threshold once: freed tensors stay in the heap for the next operation. The host is
/// a process of its own, so nothing else is affected; TRAINTUNE_MALLOC=default keeps glibc's
/// behaviour, and where there is no glibc (musl, macOS, Windows) nothing changes.
/// </summary>
internal static class NativeAllocator
{
    const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int parameter, int value);

    /// <summary>Whether the threshold was raised.</summary>
    public static bool KeepLargeBlocksInTheHeap()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("TRAINTUNE_MALLOC") == "default") return false;
        try
        {
            return Mallopt(MmapThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
