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
        model.Series.Add(Line("train (mean over the block)", report.Blocks.Select(b => (b.Step, b.TrainLoss))));
        model.Series.Add(Line("validation", report.Blocks.Select(b => (b.Step, b.ValidationLoss))));
        return Svg(model);
    }

    public static string Hyperparameters(RunReport report)
    {
        var values = report.Blocks.SelectMany(b => b.Hyperparameters.Values.SelectMany(v => new[] { v.Value, v.Min ?? v.Value, v.Max ?? v.Value }));
        var model = Model($"{report.Target}: hyperparameters", "value", LogPossible(values));
        foreach (var name in report.Hyperparameters.Keys)
        {
            var points = report.Blocks.Where(b => b.Hyperparameters.ContainsKey(name)).Select(b => (b.Step, b.Hyperparameters[name])).ToList();
            var mean = Line(points.Any(p => p.Item2.Min is not null) ? $"{name} (mean)" : name, points.Select(p => (p.Step, p.Item2.Value)));
            model.Series.Add(mean);
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

    [ThreadStatic] static int _next;

    static string Svg(PlotModel model)
    {
        _next = 0;
        return SvgExporter.ExportToString(model, 900, 540, isDocument: true);
    }
}
