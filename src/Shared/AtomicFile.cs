// Shared by the runtime and the MSBuild tasks.
using System;
using System.IO;

namespace TrainTune.Hosting
{
    /// <summary>Writes a whole file or nothing: to a temporary file beside it, then a rename.</summary>
    internal static class AtomicFile
    {
        public static void WriteAllText(string path, string text) => Write(path, stream =>
        {
            using var writer = new StreamWriter(stream);
            writer.Write(text);
        });

        /// <summary>
        /// Writes <paramref name="path"/> through <paramref name="write"/>; a reader never sees it half
        /// written, and a failure (or a kill) leaves the previous file as it was.
        /// </summary>
        public static void Write(string path, Action<Stream> write)
        {
            var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
            try
            {
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                    write(stream);
                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
        }
    }
}
