// Shared by the report task, which writes tuned.json, and the generator, which reads it for a warm start.
namespace TrainTune.Hosting
{
    /// <summary>tuned.json: <c>{"target", "finished_at", "hyperparameters": {name: value}}</c>, the final values of a target's run.</summary>
    internal static class TunedFile
    {
        public const string Name = "tuned.json";
        public const string Target = "target", FinishedAt = "finished_at", Hyperparameters = "hyperparameters";
    }
}
