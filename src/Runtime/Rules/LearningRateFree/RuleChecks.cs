using TorchSharp;
namespace TrainTune;

/// <summary>Checks shared by the hand-written rules, each a clear error naming the rule and the setting.</summary>
internal static class RuleChecks
{
    public static void Validate(string rule, IEnumerable<HyperparameterSpec> specs)
    {
        foreach (var spec in specs)
        {
            try
            {
                spec.Validate();
            }
            catch (TrainTuneException e)
            {
                throw new TrainTuneException($"{rule}: {e.Message}", e);
            }
        }
    }

    public static void Positive(string rule, params (string Name, double Value)[] settings)
    {
        foreach (var (name, value) in settings)
            if (!(value > 0))
                throw new TrainTuneException($"{rule}: {name} must be greater than 0, not {value}.");
    }

}
