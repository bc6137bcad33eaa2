using System.Collections.Immutable;
using TrainTune.Generator.Model;

namespace TrainTune.Generator.Emit;

/// <summary>Emits the registry of the assembly's training targets.</summary>
internal static class TrainingTargetEmitter
{
    public static string Emit(ImmutableArray<TrainingTargetSpec> targets)
    {
        var writer = new SourceWriter();
        foreach (var line in PartialTypeEmitter.Header.TrimEnd('\n').Split('\n')) writer.Line(line);
        writer.Line();
        using (writer.Block("namespace TrainTune.Generated"))
        {
            writer.Line("/// <summary>The [TrainingTarget] methods of this assembly, registered with TrainTune.TrainingTarget when it loads.</summary>");
            writer.Generated();
            using (writer.Block("internal static class TrainingTargetRegistry"))
            {
                writer.Line("public static global::System.Collections.Generic.IReadOnlyList<global::TrainTune.TrainingTarget> All { get; } =");
                writer.Line("[");
                foreach (var target in targets)
                    writer.Line($"    new global::TrainTune.TrainingTarget({Literals.String(target.Name)}, {Literals.String(target.DisplayMethod)}, static () => {target.CallExpression}),");
                writer.Line("];");
                writer.Line();
                writer.Line("#pragma warning disable CA2255 // registering the targets on load is the point");
                writer.Line("[global::System.Runtime.CompilerServices.ModuleInitializer]");
                writer.Line("internal static void Register() => global::TrainTune.TrainingTarget.Register(All);");
                writer.Line("#pragma warning restore CA2255");
            }
        }
        return writer.ToString();
    }
}
