using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>A regression task in original units: the splits (normalised) and the target scale for the metric.</summary>
public sealed record RegressionTask(string Name, TrainingData Data, double TargetMean, double TargetStd)
{
    /// <summary>A mean squared error on normalised targets, in original units.</summary>
    public double ToOriginalUnits(double normalisedMse) => normalisedMse * TargetStd * TargetStd;
}

/// <summary>
/// UCI regression data in the paper's format: whitespace-separated numbers, no header, the last
/// column the target. Rows are reordered by a permutation (row k is data row permutation[k], as
/// in the paper's code, which also takes the few repeated indices of its Power file as they are);
/// the first rows are training then validation, the last ones test; inputs and targets are
/// z-scored with the training+validation statistics (unbiased std, 0 replaced by 1).
/// </summary>
public static class UciDataset
{
    /// <summary>The paper's three UCI tasks: folder under uci/ and train/validation/test sizes.</summary>
    public static readonly IReadOnlyDictionary<string, (string Folder, int Train, int Validation, int Test)> Paper =
        new Dictionary<string, (string, int, int, int)>(StringComparer.OrdinalIgnoreCase)
        {
            ["Energy"] = ("energy", 614, 78, 76),
            ["Kin8nm"] = ("kin8nm", 5898, 1475, 819),
            ["Power"] = ("power-plant", 6889, 1722, 957),
        };

    /// <summary>One of <see cref="Paper"/>'s tasks from the data root, with the paper's permutation when it is there.</summary>
    public static RegressionTask Load(string name, DataRoot? root = null)
    {
        if (!Paper.TryGetValue(name, out var spec))
            throw new TrainTuneException($"Unknown UCI task '{name}'; the known ones are {string.Join(", ", Paper.Keys)} (or load any file with UciDataset.LoadFile).");
        root ??= new DataRoot();
        var data = root.Locate($"uci/{spec.Folder}/data.txt");
        var permutation = Path.Combine(Path.GetDirectoryName(data)!, "paper_permutation_indices.txt");
        return LoadFile(name, data, File.Exists(permutation) ? permutation : null, spec.Train, spec.Validation, spec.Test);
    }

    /// <summary>
    /// Any dataset in the UCI format: <paramref name="path"/> is the data file or a folder holding
    /// data.txt; <paramref name="permutationPath"/> (optional) reorders the rows. Test rows are the last
    /// <paramref name="testRows"/>, after the training and validation rows.
    /// </summary>
    public static RegressionTask LoadFile(string name, string path, string? permutationPath, int trainRows, int validationRows, int testRows)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "data.txt");
        if (!File.Exists(path)) throw new TrainTuneException($"The UCI data file '{path}' does not exist.");
        if (permutationPath is not null && !File.Exists(permutationPath)) throw new TrainTuneException($"The permutation file '{permutationPath}' does not exist.");
        var sources = permutationPath is null ? new[] { path } : [path, permutationPath];
        var cacheName = "uci-" + new string(name.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).ToArray());
        var tensors = ParsedDataCache.GetOrParse(cacheName, $"uci-1 {trainRows} {validationRows} {testRows}", sources,
            () => Parse(path, permutationPath, trainRows, validationRows, testRows));
        Split Part(string split) => new(tensors[$"{split}/inputs"], tensors[$"{split}/targets"]);
        var data = new TrainingData(Part("train"), Part("validation"), tensors.ContainsKey("test/inputs") ? Part("test") : null);
        return new RegressionTask(name, data, tensors["target_mean"].item<double>(), tensors["target_std"].item<double>());
    }

    static Dictionary<string, Tensor> Parse(string path, string? permutationPath, int trainRows, int validationRows, int testRows)
    {
        var rows = ReadRows(path);
        if (permutationPath is not null) rows = Permute(rows, ReadPermutation(permutationPath, rows.Count));
        if (trainRows < 1 || validationRows < 1 || testRows < 0 || trainRows + validationRows + testRows > rows.Count)
            throw new TrainTuneException($"'{path}' has {rows.Count} rows, too few for {trainRows} training, {validationRows} validation and {testRows} test rows.");

        var columns = rows[0].Length;
        var table = torch.tensor(rows.SelectMany(r => r).ToArray(), [rows.Count, columns], ScalarType.Float64);
        var inputs = table.narrow(1, 0, columns - 1);
        var targets = table.narrow(1, columns - 1, 1);
        var fit = trainRows + validationRows;
        var (inputMean, inputStd) = Statistics(inputs.narrow(0, 0, fit));
        var (targetMean, targetStd) = Statistics(targets.narrow(0, 0, fit));
        inputs = (inputs - inputMean) / inputStd;
        targets = (targets - targetMean) / targetStd;

        var tensors = new Dictionary<string, Tensor> { ["target_mean"] = targetMean.reshape([]), ["target_std"] = targetStd.reshape([]) };
        void Rows(string split, long start, long count)
        {
            tensors[$"{split}/inputs"] = inputs.narrow(0, start, count).to(ScalarType.Float32).contiguous();
            tensors[$"{split}/targets"] = targets.narrow(0, start, count).to(ScalarType.Float32).contiguous();
        }
        Rows("train", 0, trainRows);
        Rows("validation", trainRows, validationRows);
        if (testRows > 0) Rows("test", rows.Count - testRows, testRows);
        return tensors;
    }

    static (Tensor Mean, Tensor Std) Statistics(Tensor x)
    {
        var std = x.std(0, unbiased: true, keepdim: true);
        return (x.mean([0], keepdim: true), torch.where(std == 0, torch.ones_like(std), std));
    }

    static List<double[]> ReadRows(string path)
    {
        if (!File.Exists(path)) throw new TrainTuneException($"The UCI data file '{path}' does not exist.");
        var rows = new List<double[]>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            var cells = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length == 0) continue;
            var row = new double[cells.Length];
            for (var c = 0; c < cells.Length; c++)
                if (!double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out row[c]))
                    throw new TrainTuneException($"{path}, line {number}, column {c + 1}: '{cells[c]}' is not a number.");
            if (rows.Count > 0 && row.Length != rows[0].Length)
                throw new TrainTuneException($"{path}, line {number}: {row.Length} columns where the first row has {rows[0].Length}.");
            if (row.Length < 2) throw new TrainTuneException($"{path}, line {number}: a row needs at least one input and the target.");
            rows.Add(row);
        }
        if (rows.Count == 0) throw new TrainTuneException($"The UCI data file '{path}' has no rows.");
        return rows;
    }

    static int[] ReadPermutation(string path, int count)
    {
        var indices = new List<int>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (!int.TryParse(line.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) || index < 0 || index >= count)
                throw new TrainTuneException($"{path}, line {number}: '{line.Trim()}' is not a row index between 0 and {count - 1}.");
            indices.Add(index);
        }
        // The paper's Power file repeats some indices; like the paper's code, take it as it is.
        if (indices.Count != count)
            throw new TrainTuneException($"{path} has {indices.Count} row indices for {count} data rows; it must have one per row.");
        return [.. indices];
    }

    static List<double[]> Permute(List<double[]> rows, int[] permutation) => permutation.Select(i => rows[i]).ToList();
}
