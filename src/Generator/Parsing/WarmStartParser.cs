using System;
using System.Collections.Generic;
using System.Linq;
using TrainTune.Generator.Model;
using TrainTune.Hosting;

namespace TrainTune.Generator.Parsing;

/// <summary>Reads a previous build's tuned.json (an AdditionalFile when TrainTuneWarmStart=true).</summary>
internal static class WarmStartParser
{
    public const string FileName = TunedFile.Name;

    public static WarmStartSpec Parse(string path, string? text)
    {
        try
        {
            if (text is null) throw new FormatException("the file cannot be read");
            if (MiniJson.Parse(text) is not Dictionary<string, object?> root) throw new FormatException("it is not a JSON object");
            if (!root.TryGetValue(TunedFile.Target, out var target) || target is not string name || name.Length == 0)
                throw new FormatException($"it has no \"{TunedFile.Target}\" name");
            if (!root.TryGetValue(TunedFile.Hyperparameters, out var values) || values is not Dictionary<string, object?> hyperparameters)
                throw new FormatException($"it has no \"{TunedFile.Hyperparameters}\" object");
            var parsed = new List<WarmValue>();
            foreach (var pair in hyperparameters.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (pair.Value is not double value || double.IsNaN(value) || double.IsInfinity(value))
                    throw new FormatException($"hyperparameter \"{pair.Key}\" is not a finite number");
                parsed.Add(new WarmValue(pair.Key, value));
            }
            return new WarmStartSpec(path, name, parsed.ToEquatableArray(), null);
        }
        catch (FormatException e)
        {
            return new WarmStartSpec(path, "", EquatableArray<WarmValue>.Empty, e.Message);
        }
    }
}
