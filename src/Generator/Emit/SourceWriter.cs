using System;
using System.Text;

namespace TrainTune.Generator.Emit;

/// <summary>
/// Writes indented source text; four spaces per level, "\n" line ends, so output is deterministic.
/// Braces come only from <see cref="Block"/>, which closes its brace when disposed, so an
/// emitter cannot leave one open.
/// </summary>
internal sealed class SourceWriter
{
    /// <summary>The attribute that marks every member TrainTune generates.</summary>
    public static readonly string GeneratedCodeAttribute =
        $"[global::System.CodeDom.Compiler.GeneratedCode(\"TrainTune.Generator\", \"{typeof(SourceWriter).Assembly.GetName().Version}\")]";

    readonly StringBuilder _text = new();
    int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', 4 * _indent).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>Marks the member that follows as generated code.</summary>
    public SourceWriter Generated() => Line(GeneratedCodeAttribute);

    /// <summary><paramref name="header"/>, then a braced block that ends when the returned scope is disposed.</summary>
    public Scope Block(string header, string closingSuffix = "")
    {
        Line(header).Line("{");
        _indent++;
        return new Scope(this, closingSuffix);
    }

    public override string ToString() => _text.ToString();

    public readonly struct Scope(SourceWriter writer, string suffix) : IDisposable
    {
        public void Dispose()
        {
            writer._indent--;
            writer.Line("}" + suffix);
        }
    }
}
