// Shared by the runtime and the MSBuild tasks.
using System;
using System.IO;

namespace TrainTune.Hosting
{
    /// <summary>Writes a whole file or nothing: to a temporary file beside it, then a rename.</summary>
    internal static class AtomicFile
    {
        public static void WriteAllText(string path, string text)
        {
            var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
            try
            {
                File.WriteAllText(temporary, text);
                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
        }
    }
}
