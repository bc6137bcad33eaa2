using System.Text;

namespace TrainTune.Generator.Emit;

/// <summary>Writes indented source text; four spaces per level, "\n" line ends, so output is deterministic.</summary>
internal sealed class SourceWriter
{
    readonly StringBuilder _text = new();
    int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', 4 * _indent).Append(line);
        _text.Append('\n');
        return this;
    }

    public SourceWriter Open(string line)
    {
        Line(line).Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    public override string ToString() => _text.ToString();
}
