using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace TrainTune.Generator.Parsing;

/// <summary>
/// A small JSON reader for tuned.json (the generator targets netstandard2.0, where no JSON
/// library can be relied on inside the compiler). Objects become dictionaries, arrays lists,
/// numbers doubles; malformed text throws <see cref="FormatException"/>.
/// </summary>
internal sealed class MiniJson
{
    readonly string _text;
    int _at;

    MiniJson(string text) => _text = text;

    public static object? Parse(string text)
    {
        var reader = new MiniJson(text);
        var value = reader.Value();
        reader.SkipSpace();
        if (reader._at != text.Length) throw reader.Error("unexpected text after the value");
        return value;
    }

    object? Value()
    {
        SkipSpace();
        if (_at >= _text.Length) throw Error("unexpected end");
        switch (_text[_at])
        {
            case '{': return Object();
            case '[': return Array();
            case '"': return String();
            case 't': Expect("true"); return true;
            case 'f': Expect("false"); return false;
            case 'n': Expect("null"); return null;
            default: return Number();
        }
    }

    Dictionary<string, object?> Object()
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        _at++;
        SkipSpace();
        if (Peek('}')) { _at++; return result; }
        while (true)
        {
            SkipSpace();
            var key = String();
            SkipSpace();
            if (!Peek(':')) throw Error("expected ':'");
            _at++;
            result[key] = Value();
            SkipSpace();
            if (Peek(',')) { _at++; continue; }
            if (Peek('}')) { _at++; return result; }
            throw Error("expected ',' or '}'");
        }
    }

    List<object?> Array()
    {
        var result = new List<object?>();
        _at++;
        SkipSpace();
        if (Peek(']')) { _at++; return result; }
        while (true)
        {
            result.Add(Value());
            SkipSpace();
            if (Peek(',')) { _at++; continue; }
            if (Peek(']')) { _at++; return result; }
            throw Error("expected ',' or ']'");
        }
    }

    string String()
    {
        if (!Peek('"')) throw Error("expected a string");
        _at++;
        var text = new StringBuilder();
        while (_at < _text.Length && _text[_at] != '"')
        {
            var c = _text[_at++];
            if (c != '\\') { text.Append(c); continue; }
            if (_at >= _text.Length) break;
            var escaped = _text[_at++];
            switch (escaped)
            {
                case 'n': text.Append('\n'); break;
                case 't': text.Append('\t'); break;
                case 'r': text.Append('\r'); break;
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'u':
                    if (_at + 4 > _text.Length) throw Error("bad \\u escape");
                    text.Append((char)int.Parse(_text.Substring(_at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    _at += 4;
                    break;
                default: text.Append(escaped); break;
            }
        }
        if (_at >= _text.Length) throw Error("unterminated string");
        _at++;
        return text.ToString();
    }

    double Number()
    {
        var start = _at;
        while (_at < _text.Length && "+-0123456789.eE".IndexOf(_text[_at]) >= 0) _at++;
        if (start == _at || !double.TryParse(_text.Substring(start, _at - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw Error("expected a value");
        return value;
    }

    void Expect(string word)
    {
        if (string.CompareOrdinal(_text, _at, word, 0, word.Length) != 0) throw Error($"expected '{word}'");
        _at += word.Length;
    }

    bool Peek(char c) => _at < _text.Length && _text[_at] == c;

    void SkipSpace()
    {
        while (_at < _text.Length && char.IsWhiteSpace(_text[_at])) _at++;
    }

    FormatException Error(string what) => new($"{what} at character {_at}");
}
