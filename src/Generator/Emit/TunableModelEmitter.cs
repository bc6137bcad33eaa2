using TrainTune.Generator.Model;

namespace TrainTune.Generator.Emit;

/// <summary>Emits the ITunableModel implementation of a [TunableModel] class.</summary>
internal static class TunableModelEmitter
{
    public static string Emit(TunableModelSpec model) =>
        PartialTypeEmitter.Emit(model.Type, "global::TrainTune.ITunableModel", writer =>
        {
            PartialTypeEmitter.EmitDescriptors(writer, model.Hyperparameters, withPerWeight: false);
            writer.Line();
            writer.Line("/// <summary>Receives the current values before each forward pass.</summary>");
            writer.Generated();
            using (writer.Block("public void SetHyperparameters(global::System.Collections.Generic.IReadOnlyList<global::TorchSharp.torch.Tensor> values)"))
            {
                writer.Line($"if (values.Count != {model.Hyperparameters.Length}) throw new global::System.ArgumentException($\"{{GetType().Name}} expects {model.Hyperparameters.Length} hyperparameter values, not {{values.Count}}.\");");
                for (var h = 0; h < model.Hyperparameters.Length; h++)
                    writer.Line($"this.{model.Hyperparameters[h].FieldName} = values[{h}];");
            }
        });
}
