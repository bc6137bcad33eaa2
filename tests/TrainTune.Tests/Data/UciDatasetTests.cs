using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Data;

public class UciDatasetTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-uci-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Rows_are_permuted_split_and_z_scored_with_training_and_validation_statistics()
    {
        // 10 rows: inputs (r, r²), target 3r + 1; permutation reverses the rows.
        var rows = Enumerable.Range(0, 10).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r}  {r * r}\t{3 * r + 1}")).ToList();
        var data = Write("data.txt", string.Join("\n", rows) + "\n\n");
        var permutation = Write("perm.txt", string.Join("\n", Enumerable.Range(0, 10).Reverse()));
        var task = UciDataset.LoadFile("Toy", _folder, permutation, trainRows: 5, validationRows: 3, testRows: 2);

        // Reordered rows: 9, 8, ..., 0. Train+validation are data rows 9..2; test rows 1, 0.
        var fitTargets = Enumerable.Range(2, 8).Select(r => 3.0 * r + 1).ToArray();
        var mean = fitTargets.Average();
        var std = Math.Sqrt(fitTargets.Sum(t => (t - mean) * (t - mean)) / (fitTargets.Length - 1));
        Assert.Equal(mean, task.TargetMean, 10);
        Assert.Equal(std, task.TargetStd, 10);
        Assert.Equal([5L, 2L], task.Data.Train.Inputs.shape);
        Assert.Equal([3L, 1L], task.Data.Validation.Targets.shape);
        Assert.Equal((3.0 * 9 + 1 - mean) / std, task.Data.Train.Targets[0, 0].item<float>(), 5);
        Assert.Equal((3.0 * 2 + 1 - mean) / std, task.Data.Validation.Targets[2, 0].item<float>(), 5);
        Assert.Equal((3.0 * 0 + 1 - mean) / std, task.Data.Test!.Targets[1, 0].item<float>(), 5);
        var fitInputs = torch.cat([task.Data.Train.Inputs, task.Data.Validation.Inputs]).to(ScalarType.Float64);
        Assert.True(fitInputs.mean([0]).abs().max().item<double>() < 1e-6);
        Assert.True((fitInputs.std(0) - 1).abs().max().item<double>() < 1e-6);
        Assert.Equal(9.0, task.ToOriginalUnits(1.0 / std / std * 9.0), 10);
    }

    [Fact]
    public void A_constant_column_is_divided_by_one_not_zero()
    {
        var path = Write("constant.txt", string.Join("\n", Enumerable.Range(0, 6).Select(r => $"5 {r} {r}")));
        var task = UciDataset.LoadFile("Constant", path, null, 3, 2, 1);
        Assert.True(task.Data.Train.Inputs.isfinite().all().item<bool>());
        Assert.Equal(0f, task.Data.Train.Inputs[0, 0].item<float>());
    }

    [Fact]
    public void Bad_files_name_the_file_line_and_column()
    {
        var text = Write("text.txt", "1 2 3\n4 five 6\n");
        Assert.Contains("text.txt, line 2, column 2: 'five' is not a number", Assert.Throws<TrainTuneException>(() => UciDataset.LoadFile("x", text, null, 1, 1, 0)).Message);
        var ragged = Write("ragged.txt", "1 2 3\n4 5 6\n7 8\n");
        Assert.Contains("ragged.txt, line 3: 2 columns where the first row has 3", Assert.Throws<TrainTuneException>(() => UciDataset.LoadFile("x", ragged, null, 1, 1, 0)).Message);
        var good = Write("good.txt", "1 2\n3 4\n5 6\n");
        var permutation = Write("bad-perm.txt", "0\n7\n1\n");
        Assert.Contains("bad-perm.txt, line 2: '7' is not a row index between 0 and 2", Assert.Throws<TrainTuneException>(() => UciDataset.LoadFile("x", good, permutation, 1, 1, 0)).Message);
        Assert.Contains("too few", Assert.Throws<TrainTuneException>(() => UciDataset.LoadFile("x", good, null, 2, 2, 0)).Message);
    }

    [SkippableTheory]
    [InlineData("Energy", 614, 78, 76, 8)]
    [InlineData("Kin8nm", 5898, 1475, 819, 8)]
    [InlineData("Power", 6889, 1722, 957, 4)]
    public void The_papers_tasks_load_with_the_papers_splits(string name, int train, int validation, int test, int inputs)
    {
        var root = RealData.Root();
        var task = UciDataset.Load(name, root);
        Assert.Equal([train, inputs], task.Data.Train.Inputs.shape);
        Assert.Equal([validation, 1], task.Data.Validation.Targets.shape);
        Assert.Equal([test, inputs], task.Data.Test!.Inputs.shape);

        // Independent: the target's std over the first train+validation permuted rows, from the text.
        var folder = Path.GetDirectoryName(root.Locate($"uci/{UciDataset.Paper[name].Folder}/data.txt"))!;
        var targets = File.ReadLines(Path.Combine(folder, "data.txt")).Where(l => l.Trim().Length > 0)
            .Select(l => double.Parse(l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[^1], CultureInfo.InvariantCulture)).ToArray();
        var order = File.ReadLines(Path.Combine(folder, "paper_permutation_indices.txt")).Where(l => l.Trim().Length > 0).Select(int.Parse).ToArray();
        var fit = order.Take(train + validation).Select(i => targets[i]).ToArray();
        var mean = fit.Average();
        Assert.Equal(mean, task.TargetMean, 9);
        Assert.Equal(Math.Sqrt(fit.Sum(t => (t - mean) * (t - mean)) / (fit.Length - 1)), task.TargetStd, 9);
    }
}

/// <summary>The real datasets, when this machine has them (TRAINTUNE_DATA, the cache or the system folder; no download).</summary>
internal static class RealData
{
    public static DataRoot Root()
    {
        var root = new DataRoot();
        var found = root.Folders.Any(f => File.Exists(Path.Combine(f, "uci", "energy", "data.txt")));
        Skip.IfNot(found, $"The real datasets are not on this machine (looked in {string.Join(", ", root.Folders)}); set TRAINTUNE_DATA to run this test.");
        return root;
    }
}
