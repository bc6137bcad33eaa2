using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace TrainTune.Build.Reporting;

/// <summary>Loss curves and hyperparameter trajectories as SVG, drawn with OxyPlot.</summary>
internal static class Plots
{
    public static string Losses(RunReport report)
    {
        var model = Model($"{report.Target}: losses", "loss", LogPossible(report.Blocks.SelectMany(b => new[] { b.TrainLoss, b.ValidationLoss })));
        var train = Line("train (mean over the block)", report.Blocks.Select(b => (b.Step, b.TrainLoss)));
        var validation = Line("validation", report.Blocks.Select(b => (b.Step, b.ValidationLoss)));
        // The other starts of a BestOf run, faint and first, so that the counted one is drawn over them.
        foreach (var start in report.OtherStarts)
            model.Series.Add(Faint(start.Select(b => (b.Step, b.ValidationLoss)), validation.Color));
        if (report.OtherStarts.Count > 0) model.Series.Add(Legend($"validation, the other {report.OtherStarts.Count} starts", validation.Color));
        model.Series.Add(train);
        model.Series.Add(validation);
        return Svg(model);
    }

    public static string Hyperparameters(RunReport report)
    {
        var values = report.Blocks.SelectMany(b => b.Hyperparameters.Values.SelectMany(v => new[] { v.Value, v.Min ?? v.Value, v.Max ?? v.Value }.Concat(v.PerGroup?.Values ?? [])));
        var model = Model($"{report.Target}: hyperparameters", "value", LogPossible(values));
        foreach (var name in report.Hyperparameters.Keys)
        {
            var points = report.Blocks.Where(b => b.Hyperparameters.ContainsKey(name)).Select(b => (b.Step, b.Hyperparameters[name])).ToList();
            var mean = Line(points.Any(p => p.Item2.Min is not null) ? $"{name} (mean)" : name, points.Select(p => (p.Step, p.Item2.Value)));
            foreach (var start in report.OtherStarts)
                model.Series.Insert(0, Faint(start.Where(b => b.Hyperparameters.ContainsKey(name)).Select(b => (b.Step, b.Hyperparameters[name].Value)), mean.Color));
            model.Series.Add(mean);
            // A grouped hyperparameter: a line per group, dotted and dashed in turn beside the mean.
            var groups = points.SelectMany(p => p.Item2.PerGroup?.Keys ?? []).Distinct().ToList();
            foreach (var (group, i) in groups.Select((g, i) => (g, i)))
                model.Series.Add(Line($"{name} {group}", points.Select(p => (p.Step, p.Item2.PerGroup?.GetValueOrDefault(group, double.NaN) ?? double.NaN)),
                    i % 2 == 0 ? LineStyle.Dot : LineStyle.Dash, mean.Color));
            if (points.Any(p => p.Item2.Min is not null))
            {
                model.Series.Add(Line($"{name} min", points.Select(p => (p.Step, p.Item2.Min ?? double.NaN)), LineStyle.Dot, mean.Color));
                model.Series.Add(Line($"{name} max", points.Select(p => (p.Step, p.Item2.Max ?? double.NaN)), LineStyle.Dash, mean.Color));
            }
        }
        return Svg(model);
    }

    static readonly OxyColor[] Palette = OxyPalettes.Hue64.Colors.Where((_, i) => i % 9 == 0).ToArray();

    static PlotModel Model(string title, string yTitle, bool logarithmic)
    {
        var model = new PlotModel { Title = title, Background = OxyColors.White, Padding = new OxyThickness(8, 24, 16, 8) };
        model.Legends.Add(new Legend
        {
            LegendPosition = LegendPosition.BottomCenter,
            LegendPlacement = LegendPlacement.Outside,
            LegendOrientation = LegendOrientation.Horizontal,
            LegendItemSpacing = 32,
        });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "weight step", MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(logarithmic
            ? new LogarithmicAxis { Position = AxisPosition.Left, Title = yTitle + " (log scale)", MajorGridlineStyle = LineStyle.Dot }
            : new LinearAxis { Position = AxisPosition.Left, Title = yTitle, MajorGridlineStyle = LineStyle.Dot });
        return model;
    }

    static bool LogPossible(IEnumerable<double> values) => values.Where(double.IsFinite).All(v => v > 0);

    static LineSeries Line(string title, IEnumerable<(int Step, double Value)> points, LineStyle style = LineStyle.Solid, OxyColor? color = null)
    {
        var series = new LineSeries { Title = title, LineStyle = style, StrokeThickness = 1.5 };
        series.Color = color ?? Palette[_next++ % Palette.Length];
        foreach (var (step, value) in points)
            series.Points.Add(double.IsFinite(value) ? new DataPoint(step, value) : DataPoint.Undefined);
        return series;
    }

    /// <summary>A thin, light line without a legend entry.</summary>
    static LineSeries Faint(IEnumerable<(int Step, double Value)> points, OxyColor color)
    {
        var series = new LineSeries { StrokeThickness = 0.75, Color = OxyColor.FromAColor(56, color), RenderInLegend = false };
        foreach (var (step, value) in points)
            series.Points.Add(double.IsFinite(value) ? new DataPoint(step, value) : DataPoint.Undefined);
        return series;
    }

    /// <summary>A legend entry for the faint lines.</summary>
    static LineSeries Legend(string title, OxyColor color) =>
        new() { Title = title, StrokeThickness = 0.75, Color = OxyColor.FromAColor(56, color) };

    [ThreadStatic] static int _next;

    static string Svg(PlotModel model)
    {
        _next = 0;
        return SvgExporter.ExportToString(model, 900, 540, isDocument: true);
    }
}
