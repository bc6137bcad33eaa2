namespace TrainTune;

/// <summary>A rule some of whose per-weight states are not weight-shaped (Prodigy's slice_p), so that a checkpoint's shapes are checked against the right ones.</summary>
internal interface ISlicedState
{
    /// <summary>The shape of state <paramref name="state"/> of a weight of <paramref name="weightShape"/>.</summary>
    long[] Shape(int state, long[] weightShape, MemberLayout members);
}
