// Compiled twice: by MSBuild's RoslynCodeTaskFactory (TrainTune.targets), so the build
// needs no prebuilt task assembly, and by the tests, which exercise the logic directly.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace TrainTune.Build
{
    /// <summary>What <see cref="GlibcxxCompatibility.Apply"/> did to a file.</summary>
    public enum GlibcxxPatchOutcome { NotNeeded, Patched, AlreadyPatched }

    /// <summary>
    /// TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32, which Debian 12 and
    /// Ubuntu 22.04 lack. The only symbol bound to that version is
    /// _ZSt21ios_base_library_initv and nothing relocates against it, so marking the version
    /// need weak (VER_FLG_WEAK in .gnu.version_r) lets the loader accept the library.
    /// Everything else about the file is checked first; a file that is not the expected one
    /// is refused rather than patched.
    /// </summary>
    public static class GlibcxxCompatibility
    {
        public const string MissingVersion = "GLIBCXX_3.4.32";
        public const string OnlySymbol = "_ZSt21ios_base_library_initv";
        const ushort VerFlgWeak = 0x2;
        const uint ShtDynsym = 11, ShtRela = 4, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;

        /// <summary>True when the host's libstdc++ defines <see cref="MissingVersion"/>.</summary>
        public static bool HostHasVersion(string libStdCxxPath)
        {
            if (!File.Exists(libStdCxxPath)) return false;
            var needle = Encoding.ASCII.GetBytes(MissingVersion + "\0");
            return IndexOf(File.ReadAllBytes(libStdCxxPath), needle) >= 0;
        }

        /// <summary>The host's libstdc++.so.6 in the usual places, or null.</summary>
        public static string? FindHostLibStdCxx()
        {
            foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/usr/lib/aarch64-linux-gnu" })
            {
                var path = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(path)) return path;
            }
            return null;
        }

        /// <summary>
        /// Marks the GLIBCXX_3.4.32 version need of <paramref name="path"/> weak, in place and
        /// atomically. Throws <see cref="InvalidDataException"/> when the file is not the
        /// library this step was written for.
        /// </summary>
        public static GlibcxxPatchOutcome Apply(string path)
        {
            var bytes = File.ReadAllBytes(path);
            var flagsOffset = FindVersionNeedFlags(bytes, path, out var alreadyWeak);
            if (flagsOffset < 0) return GlibcxxPatchOutcome.NotNeeded;
            if (alreadyWeak) return GlibcxxPatchOutcome.AlreadyPatched;
            var flags = BitConverter.ToUInt16(bytes, flagsOffset);
            var patched = (ushort)(flags | VerFlgWeak);
            bytes[flagsOffset] = (byte)(patched & 0xff);
            bytes[flagsOffset + 1] = (byte)(patched >> 8);
            var temp = path + ".traintune-tmp";
            // The copy's timestamp kept: the build's incremental copy then sees the file as up to
            // date and leaves it (patched) alone, instead of copying it over again at every build,
            // under processes that may be loading it (a Slurm array's tasks).
            var written = File.GetLastWriteTimeUtc(path);
            File.WriteAllBytes(temp, bytes);
            File.Replace(temp, path, null);
            File.SetLastWriteTimeUtc(path, written);
            return GlibcxxPatchOutcome.Patched;
        }

        /// <summary>
        /// The file offset of vna_flags of the GLIBCXX_3.4.32 need, or -1 when the file needs
        /// no such version. Validates that only <see cref="OnlySymbol"/> uses that version
        /// and that no relocation refers to it.
        /// </summary>
        public static int FindVersionNeedFlags(byte[] elf, string name, out bool alreadyWeak)
        {
            alreadyWeak = false;
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw Refuse(name, "it is not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw Refuse(name, "it is not a 64-bit little-endian ELF file");

            var shoff = checked((int)U64(elf, 0x28));
            int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > elf.Length)
                throw Refuse(name, "its section header table is missing or truncated");

            var sections = new List<Section>();
            for (var i = 0; i < shnum; i++)
            {
                var at = shoff + i * shentsize;
                sections.Add(new Section(U32(elf, at + 4), checked((int)U64(elf, at + 0x18)), checked((int)U64(elf, at + 0x20)),
                    (int)U32(elf, at + 0x28), checked((int)U64(elf, at + 0x38))));
            }

            var verneed = sections.Find(s => s.Type == ShtGnuVerneed);
            if (verneed == null) return -1;
            var strtab = sections[verneed.Link];

            // Walk Elf64_Verneed / Elf64_Vernaux entries.
            int flagsOffset = -1, versionIndex = -1;
            var need = verneed.Offset;
            while (true)
            {
                int auxCount = U16(elf, need + 2);
                var aux = need + (int)U32(elf, need + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    if (Str(elf, strtab.Offset + (int)U32(elf, aux + 8)) == MissingVersion)
                    {
                        flagsOffset = aux + 4;
                        versionIndex = U16(elf, aux + 6);
                        alreadyWeak = (U16(elf, aux + 4) & VerFlgWeak) != 0;
                    }
                    var nextAux = (int)U32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                var nextNeed = (int)U32(elf, need + 12);
                if (nextNeed == 0) break;
                need += nextNeed;
            }
            if (flagsOffset < 0) return -1;

            // Which dynamic symbols are bound to that version?
            var dynsym = sections.Find(s => s.Type == ShtDynsym) ?? throw Refuse(name, "it has no dynamic symbol table");
            var versym = sections.Find(s => s.Type == ShtGnuVersym) ?? throw Refuse(name, "it has no symbol version table");
            var dynstr = sections[dynsym.Link];
            var symbolCount = dynsym.Size / 24;
            var bound = new List<int>();
            for (var i = 0; i < symbolCount; i++)
                if ((U16(elf, versym.Offset + 2 * i) & 0x7fff) == versionIndex) bound.Add(i);
            if (bound.Count != 1 || Str(elf, dynstr.Offset + (int)U32(elf, dynsym.Offset + 24 * bound[0])) != OnlySymbol)
                throw Refuse(name, $"{MissingVersion} is used by other symbols than {OnlySymbol}, so marking it weak would not be safe");

            foreach (var rela in sections.FindAll(s => s.Type == ShtRela && s.Link < sections.Count && sections[s.Link] == dynsym))
                for (var r = rela.Offset; r + 24 <= rela.Offset + rela.Size; r += 24)
                    if ((int)(U64(elf, r + 8) >> 32) == bound[0])
                        throw Refuse(name, $"a relocation refers to {OnlySymbol}, so marking {MissingVersion} weak would not be safe");
            return flagsOffset;
        }

        static InvalidDataException Refuse(string name, string why) => new InvalidDataException(
            $"TrainTune will not patch '{name}' for {MissingVersion}: {why}. This step expects TorchSharp 0.107's libLibTorchSharp.so; " +
            "update libstdc++ on this machine (GCC 13 or newer) or set TrainTunePatchGlibcxx=false and supply a compatible library.");

        static ushort U16(byte[] b, int at) => BitConverter.ToUInt16(b, at);
        static uint U32(byte[] b, int at) => BitConverter.ToUInt32(b, at);
        static ulong U64(byte[] b, int at) => BitConverter.ToUInt64(b, at);

        static string Str(byte[] b, int at)
        {
            var end = at;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, at, end - at);
        }

        static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (var i = 0; i + needle.Length <= haystack.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        sealed class Section
        {
            public Section(uint type, int offset, int size, int link, int entSize) { Type = type; Offset = offset; Size = size; Link = link; EntSize = entSize; }
            public uint Type { get; }
            public int Offset { get; }
            public int Size { get; }
            public int Link { get; }
            public int EntSize { get; }
        }
    }

    /// <summary>
    /// MSBuild task: applies <see cref="GlibcxxCompatibility"/> to the build output's copies of
    /// libLibTorchSharp.so when the host's libstdc++ lacks GLIBCXX_3.4.32.
    /// </summary>
    public sealed class TrainTunePatchGlibcxx : Microsoft.Build.Utilities.Task
    {
        [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The host's libstdc++.so.6; found in the usual places when empty.</summary>
        public string? HostLibStdCxx { get; set; }

        [Output] public ITaskItem[] PatchedLibraries { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            var host = string.IsNullOrEmpty(HostLibStdCxx) ? GlibcxxCompatibility.FindHostLibStdCxx() : HostLibStdCxx;
            if (host != null && GlibcxxCompatibility.HostHasVersion(host))
            {
                Log.LogMessage(MessageImportance.Low, $"TrainTune: {host} provides {GlibcxxCompatibility.MissingVersion}; libLibTorchSharp.so left untouched.");
                return true;
            }
            var patched = new List<ITaskItem>();
            foreach (var library in Libraries)
            {
                try
                {
                    var outcome = GlibcxxCompatibility.Apply(library.ItemSpec);
                    if (outcome == GlibcxxPatchOutcome.Patched)
                    {
                        patched.Add(library);
                        Log.LogMessage(MessageImportance.High,
                            $"TrainTune: the host's libstdc++ ({host ?? "not found"}) lacks {GlibcxxCompatibility.MissingVersion}; marked that version need weak in {library.ItemSpec} (only {GlibcxxCompatibility.OnlySymbol} uses it).");
                    }
                    else if (outcome == GlibcxxPatchOutcome.AlreadyPatched)
                        Log.LogMessage(MessageImportance.Low, $"TrainTune: {library.ItemSpec} is already compatible with this host's libstdc++.");
                }
                catch (Exception e) when (e is InvalidDataException || e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogError(null, "TT9001", null, library.ItemSpec, 0, 0, 0, 0, e.Message);
                }
            }
            PatchedLibraries = patched.ToArray();
            return !Log.HasLoggedErrors;
        }
    }
}
