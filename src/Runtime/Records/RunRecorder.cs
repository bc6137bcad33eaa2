using System.Text.Json;

namespace TrainTune;

/// <summary>
/// Writes a run's record as JSON lines: a "start" line, one "block" line per hyper step, and
/// a closing "finished" or "diverged" line. Each line is written whole and flushed, so an
/// interrupted run leaves every completed line readable.
/// </summary>
internal sealed class RunRecorder : IDisposable
{
    public static JsonSerializerOptions Json => Hosting.ProtocolJson.Options;

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

    public void Write(string @event, object content)
    {
        var element = JsonSerializer.SerializeToElement(content, content.GetType(), Json);
        var line = new Dictionary<string, JsonElement> { ["event"] = JsonSerializer.SerializeToElement(@event, Json) };
        foreach (var property in element.EnumerateObject()) line[property.Name] = property.Value;
        _writer.WriteLine(JsonSerializer.Serialize(line, Json));
        _writer.Flush();
        LinesWritten++;
    }

    /// <summary>Lines in the record so far.</summary>
    public int LinesWritten { get; private set; }

    public void Dispose() => _writer.Dispose();
}
