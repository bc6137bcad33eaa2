using Microsoft.CodeAnalysis;

namespace TrainTune.Generator.Model;

/// <summary>A diagnostic to report, as plain values; becomes a <see cref="Diagnostic"/> only when reported.</summary>
internal sealed record DiagnosticInfo(string DescriptorId, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Diagnostics.DiagnosticDescriptors.ById(DescriptorId), Location?.ToLocation(), [.. Arguments]);

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments) =>
        new(descriptor.Id, location, arguments.ToEquatableArray());
}
