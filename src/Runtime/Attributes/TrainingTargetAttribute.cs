namespace TrainTune;

/// <summary>
/// Marks a <c>public static TuningRun Name()</c> method as a training target: the generated
/// registry lists it, and <c>dotnet build -t:TrainTune</c> runs it by name.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class TrainingTargetAttribute : Attribute
{
    /// <summary>The target's name; the method's name when not given.</summary>
    public string? Name { get; set; }
}
