namespace TrainTune;

/// <summary>
/// Writes a run's record (see <see cref="Hosting.RecordFile"/>), each line whole and flushed.
/// </summary>
internal sealed class RunRecorder : IDisposable
{
    readonly StreamWriter _writer;

    /// <param name="keepLines">When resuming: keep this many lines of an existing record and append after them.</param>
    public RunRecorder(string path, int? keepLines = null)
    {
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder) Directory.CreateDirectory(folder);
            if (keepLines is { } keep && File.Exists(path))
            {
                var kept = File.ReadLines(path).Take(keep).ToList();
                Hosting.AtomicFile.WriteAllText(path, string.Concat(kept.Select(line => line + Environment.NewLine)));
                LinesWritten = kept.Count;
                _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
            }
            else
                _writer = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrainTuneException($"Cannot write the run record to '{path}': {e.Message} Choose a writable location.", e);
        }
    }

    /// <summary>Writes one line of <paramref name="event"/>: one of <see cref="Hosting.RecordFile"/>'s line records.</summary>
    public void Write<TLine>(string @event, TLine content) where TLine : class
    {
        _writer.WriteLine(Hosting.RecordFile.Line(@event, content));
        _writer.Flush();
        LinesWritten++;
    }

    /// <summary>Lines in the record so far.</summary>
    public int LinesWritten { get; private set; }

    public void Dispose() => _writer.Dispose();
}
