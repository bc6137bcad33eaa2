namespace TrainTune;

/// <summary>
/// How many libtorch threads a run used and why: <see cref="IntraOp"/> threads inside each
/// operation, <see cref="InterOp"/> threads between operations, out of the <see cref="Cores"/>
/// this process may use; <see cref="WorkPerStep"/> is the estimate the automatic choice was made
/// from (multiply-adds of one forward pass over a training batch: parameters × rows).
/// </summary>
public sealed record ThreadChoice(int IntraOp, int InterOp, int Cores, long WorkPerStep, string Reason)
{
    /// <summary>The same numbers as the record and result.json write them.</summary>
    internal Hosting.ThreadNumbers ToNumbers() => new(IntraOp, InterOp, Cores, WorkPerStep, Reason);
}
