extern alias build;
using System.Text.Json;
using System.Xml.Linq;
using build::TrainTune.Build.Reporting;
using build::TrainTune.Hosting;

namespace TrainTune.Tests.Build;

/// <summary>The report logic on the files of two real runs (fixtures/quick, fixtures/perweight), without MSBuild.</summary>
public class ReportTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-report-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static string Fixture(string name, [System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "fixtures", name);

    string Copy(string fixture)
    {
        var target = Path.Combine(_folder, fixture);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(Fixture(fixture))) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    static List<JsonElement> Blocks(string folder) =>
        File.ReadLines(Path.Combine(folder, HostProtocol.RecordFile)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("event").GetString() == "block").ToList();

    [Fact]
    public void Report_states_configuration_hyperparameters_losses_and_hypergradient_norms()
    {
        var folder = Copy("quick");
        ReportWriter.Write(folder, Path.Combine(_folder, HostProtocol.HistoryFile), _ => { });
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, HostProtocol.ResultFile))).RootElement.GetProperty("result");
        var norms = Blocks(folder).Select(b => b.GetProperty("hypergradient_norm").GetDouble()).ToList();

        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, HostProtocol.ReportJsonFile))).RootElement;
        Assert.Equal(RunReport.SchemaName, json.GetProperty("schema").GetString());
        Assert.Equal("Quick", json.GetProperty("target").GetString());
        Assert.Equal("OnePass", json.GetProperty("method").GetString());
        Assert.Equal(result.GetProperty("validation_loss").GetDouble(), json.GetProperty("validation_loss").GetDouble());
        Assert.Equal(result.GetProperty("test_loss").GetDouble(), json.GetProperty("test_loss").GetDouble());
        Assert.Equal(100, json.GetProperty("steps_completed").GetInt32());
        Assert.Equal(norms.Max(), json.GetProperty("hypergradient_norm").GetProperty("max").GetDouble());
        Assert.Equal(norms[^1], json.GetProperty("hypergradient_norm").GetProperty("last").GetDouble());
        var learningRate = json.GetProperty("hyperparameters").GetProperty("learningRate");
        Assert.Equal(result.GetProperty("final_hyperparameters").GetProperty("learningRate").GetProperty("value").GetDouble(), learningRate.GetProperty("final").GetDouble());
        Assert.Equal(result.GetProperty("initial_hyperparameters").GetProperty("learningRate").GetProperty("value").GetDouble(), learningRate.GetProperty("initial").GetDouble());

        var markdown = File.ReadAllText(Path.Combine(folder, HostProtocol.ReportMarkdownFile));
        Assert.Contains("# TrainTune report: Quick", markdown);
        Assert.Contains("| rule | TrainTune.SgdMomentum |", markdown);
        Assert.Contains("| learningRate | 0.001 | 0.003196 |", markdown);
        Assert.Contains($"| {result.GetProperty("train_loss").GetDouble():G4} | {result.GetProperty("validation_loss").GetDouble():G4} | {result.GetProperty("test_loss").GetDouble():G4} |", markdown);
        Assert.Contains("over 10 hyper steps", markdown);

        var tuned = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, HostProtocol.TunedFile))).RootElement;
        Assert.Equal("Quick", tuned.GetProperty("target").GetString());
        Assert.Equal(learningRate.GetProperty("final").GetDouble(), tuned.GetProperty("hyperparameters").GetProperty("learningRate").GetDouble());
    }

    [Fact]
    public void Per_weight_learning_rates_are_summarised_per_weight_tensor()
    {
        var folder = Copy("perweight");
        ReportWriter.Write(folder, Path.Combine(_folder, HostProtocol.HistoryFile), _ => { });
        var final = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, HostProtocol.ResultFile))).RootElement
            .GetProperty("result").GetProperty("final_hyperparameters").GetProperty("learningRate").GetProperty("per_tensor");
        var markdown = File.ReadAllText(Path.Combine(folder, HostProtocol.ReportMarkdownFile));
        Assert.Contains("Final learningRate per weight tensor:", markdown);
        foreach (var tensor in final.EnumerateObject())
            Assert.Contains($"| {tensor.Name} | {tensor.Value.GetProperty("value").GetDouble():G4} | {tensor.Value.GetProperty("min").GetDouble():G4} | {tensor.Value.GetProperty("max").GetDouble():G4} |", markdown);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, HostProtocol.ReportJsonFile))).RootElement;
        Assert.Equal(4, json.GetProperty("hyperparameters").GetProperty("learningRate").GetProperty("final_per_tensor").EnumerateObject().Count());
    }

    /// <summary>The quick run's files with its learning rate given per parameter group ("hidden" at the value, "output" at twice it), as a grouped run writes them.</summary>
    string Grouped()
    {
        var folder = Copy("quick");
        static void AddGroups(System.Text.Json.Nodes.JsonNode? hyperparameters)
        {
            var learningRate = hyperparameters!["learningRate"]!;
            var value = learningRate["value"]!.GetValue<double>();
            learningRate["per_group"] = new System.Text.Json.Nodes.JsonObject { ["hidden"] = value, ["output"] = 2 * value };
        }
        var record = Path.Combine(folder, HostProtocol.RecordFile);
        File.WriteAllLines(record, File.ReadLines(record).Select(line =>
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(line)!;
            if (node["event"]!.GetValue<string>() == "block") AddGroups(node["hyperparameters"]);
            return node.ToJsonString();
        }).ToList());
        var resultPath = Path.Combine(folder, HostProtocol.ResultFile);
        var result = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(resultPath))!;
        AddGroups(result["result"]!["final_hyperparameters"]);
        File.WriteAllText(resultPath, result.ToJsonString());
        return folder;
    }

    [Fact]
    public void A_grouped_hyperparameter_gets_a_line_per_group_and_its_final_values_by_group()
    {
        var folder = Grouped();
        ReportWriter.Write(folder, Path.Combine(_folder, HostProtocol.HistoryFile), _ => { });
        var final = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, HostProtocol.ResultFile))).RootElement
            .GetProperty("result").GetProperty("final_hyperparameters").GetProperty("learningRate").GetProperty("per_group");
        var markdown = File.ReadAllText(Path.Combine(folder, HostProtocol.ReportMarkdownFile));
        Assert.Contains("Final learningRate per parameter group:", markdown);
        Assert.Contains($"| output | {final.GetProperty("output").GetDouble():G4} |", markdown);
        XNamespace svg = "http://www.w3.org/2000/svg";
        var text = string.Join(" ", XDocument.Load(Path.Combine(folder, HostProtocol.HyperparameterPlotFile)).Descendants(svg + "text").Select(t => t.Value));
        Assert.Contains("learningRate hidden", text);
        Assert.Contains("learningRate output", text);
    }

    [Fact]
    public void Plots_are_svg_documents_with_a_series_per_curve_on_log_axes()
    {
        var folder = Copy("perweight");
        ReportWriter.Write(folder, Path.Combine(_folder, HostProtocol.HistoryFile), _ => { });
        XNamespace svg = "http://www.w3.org/2000/svg";
        var losses = XDocument.Load(Path.Combine(folder, HostProtocol.LossPlotFile));
        Assert.Equal(svg + "svg", losses.Root!.Name);
        var lossText = string.Join(" ", losses.Descendants(svg + "text").Select(t => t.Value));
        Assert.Contains("validation", lossText);
        Assert.Contains("log scale", lossText);
        Assert.True(losses.Descendants(svg + "polyline").Count() >= 2);
        var hyperparameters = XDocument.Load(Path.Combine(folder, HostProtocol.HyperparameterPlotFile));
        var text = string.Join(" ", hyperparameters.Descendants(svg + "text").Select(t => t.Value));
        foreach (var series in new[] { "learningRate (mean)", "learningRate min", "learningRate max", "momentum", "weightDecay" }) Assert.Contains(series, text);
    }

    [Fact]
    public void History_gets_one_line_per_run_and_the_comparison_shows_the_previous_run()
    {
        var history = Path.Combine(_folder, HostProtocol.HistoryFile);
        var first = ReportWriter.Write(Copy("quick"), history, _ => { });
        Assert.Contains(first, row => row.Contains("(first run)"));
        Directory.Delete(Path.Combine(_folder, "quick"), true);
        var second = ReportWriter.Write(Copy("quick"), history, _ => { });
        var lines = File.ReadAllLines(history);
        Assert.Equal(2, lines.Length);
        var validation = JsonDocument.Parse(lines[0]).RootElement.GetProperty("validation_loss").GetDouble();
        Assert.Contains(second, row => row.StartsWith("validation loss") && row.Contains($"{validation:G4} -> {validation:G4}"));
    }

    [Fact]
    public void A_corrupt_history_line_is_skipped_with_a_warning_and_kept()
    {
        var history = Path.Combine(_folder, HostProtocol.HistoryFile);
        var earlier = """{"time":"2026-01-01T00:00:00+00:00","target":"Quick","validation_loss":0.5,"test_loss":0.6,"hyperparameters":{"learningRate":0.01}}""";
        File.WriteAllText(history, earlier + "\n{ this line is broken\n" + "\"not an object\"");
        var warnings = new List<string>();
        var rows = ReportWriter.Write(Copy("quick"), history, warnings.Add);

        Assert.Contains(warnings, w => w.Contains("line 2") && w.Contains("skipped and left in place"));
        Assert.Contains(rows, row => row.StartsWith("validation loss") && row.Contains("0.5 ->"));
        var lines = File.ReadAllLines(history);
        Assert.Equal(4, lines.Length);
        Assert.Equal(earlier, lines[0]);
        Assert.Equal("{ this line is broken", lines[1]);
        Assert.Equal("\"not an object\"", lines[2]);
        Assert.Equal("Quick", JsonDocument.Parse(lines[3]).RootElement.GetProperty("target").GetString());
    }

    [Fact]
    public void Atomic_writes_replace_a_file_whole_and_leave_nothing_behind_on_failure()
    {
        var path = Path.Combine(_folder, "report.md");
        File.WriteAllText(path, "old");
        AtomicFile.WriteAllText(path, "new content");
        Assert.Equal("new content", File.ReadAllText(path));

        var blocked = Path.Combine(_folder, "blocked");
        Directory.CreateDirectory(blocked); // a folder where the file should go: the final rename fails
        Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(blocked, "text"));
        Assert.True(Directory.Exists(blocked));
        Assert.Equal(["blocked", "report.md"], Directory.EnumerateFileSystemEntries(_folder).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_missing_result_is_a_clear_error()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ReportWriter.Write(_folder, Path.Combine(_folder, HostProtocol.HistoryFile), _ => { }));
        Assert.Contains("wrote no result.json", error.Message);
    }
}
