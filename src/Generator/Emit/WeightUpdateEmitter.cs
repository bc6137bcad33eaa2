using System.Linq;
using TrainTune.Generator.Model;

namespace TrainTune.Generator.Emit;

/// <summary>Emits the IWeightUpdate implementation of a [WeightUpdate] class.</summary>
internal static class WeightUpdateEmitter
{
    public static string Emit(WeightUpdateSpec rule) =>
        PartialTypeEmitter.Emit(rule.Type, "global::TrainTune.IWeightUpdate", writer =>
        {
            PartialTypeEmitter.EmitDescriptors(writer, rule.Hyperparameters, withPerWeight: true);
            writer.Line();
            writer.Generated();
            writer.Line("private static readonly string[] __traintuneStateNames = [" + string.Join(", ", rule.StateNames.Select(Literals.String)) + "];");
            writer.Line();
            writer.Line("/// <summary>The rule's per-weight state, from its 'ref Tensor?' parameters.</summary>");
            writer.Generated();
            writer.Line("public global::System.Collections.Generic.IReadOnlyList<string> StateNames => __traintuneStateNames;");
            writer.Line();
            EmitPerWeightMethod(writer, rule, "Differentiable mode: u for every weight tensor, out of place, graph kept.",
                "public global::TorchSharp.torch.Tensor[] Updates", "var updates = new global::TorchSharp.torch.Tensor[weights.Count];",
                $"updates[k] = {Call(rule)};", "return updates;");
            writer.Line();
            EmitPerWeightMethod(writer, rule, "Untracked mode: w -= u in place for every weight tensor, without a graph.",
                "public void Apply", "using var __noGrad = global::TorchSharp.torch.no_grad();", $"weights[k].sub_({Call(rule)});", null);
            writer.Line();
            writer.Generated();
            using (writer.Block("private void __TraintuneCheck(" + Parameters + ")"))
            {
                writer.Line($"if (grads.Count != weights.Count || state.Length != weights.Count || values.Length != {rule.Hyperparameters.Length})");
                writer.Line($"    throw new global::System.ArgumentException($\"{{GetType().Name}} expects one gradient and one state row per weight tensor and {rule.Hyperparameters.Length} hyperparameter value rows.\");");
            }
        });

    const string Parameters = "global::System.Collections.Generic.IReadOnlyList<global::TorchSharp.torch.Tensor> weights, " +
        "global::System.Collections.Generic.IReadOnlyList<global::TorchSharp.torch.Tensor> grads, global::TorchSharp.torch.Tensor[][] values, global::TorchSharp.torch.Tensor?[][] state";

    // A method over every weight tensor: the check, a first line, then per weight k the fields' values and one statement.
    static void EmitPerWeightMethod(SourceWriter writer, WeightUpdateSpec rule, string summary, string declaration, string before, string perWeight, string? after)
    {
        writer.Line($"/// <summary>{summary}</summary>");
        writer.Generated();
        using (writer.Block(declaration + "(" + Parameters + ")"))
        {
            writer.Line("__TraintuneCheck(weights, grads, values, state);");
            writer.Line(before);
            using (writer.Block("for (var k = 0; k < weights.Count; k++)"))
            {
                EmitAssignments(writer, rule);
                writer.Line(perWeight);
            }
            if (after is not null) writer.Line(after);
        }
    }

    static void EmitAssignments(SourceWriter writer, WeightUpdateSpec rule)
    {
        for (var h = 0; h < rule.Hyperparameters.Length; h++)
            writer.Line($"this.{rule.Hyperparameters[h].FieldName} = values[{h}][k];");
    }

    static string Call(WeightUpdateSpec rule) =>
        $"this.{rule.MethodName}(weights[k], grads[k]" + string.Concat(rule.StateNames.Select((_, s) => $", ref state[k][{s}]")) + ")";
}
