// Shared by the runtime, which writes the thread choice into the record and result.json, and the report, which reads it.
namespace TrainTune.Hosting
{
    /// <summary>The libtorch threads a run used and why, as every file writes them.</summary>
    internal sealed record ThreadNumbers(int IntraOp, int InterOp, int Cores, long WorkPerStep, string Reason);
}
