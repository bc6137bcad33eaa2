// Shared by the runtime, the host and the MSBuild tasks (which must not load TorchSharp): every
// method selectable by name, declared once, and the refusals that follow from what it can do.
namespace TrainTune.Hosting
{
    /// <summary>What a named method is.</summary>
    internal enum MethodKind
    {
        /// <summary>A change to one run of the target's own rule (fixed, scheduled or tuned hyperparameters).</summary>
        OneRun,

        /// <summary>A search over several whole runs; the counted run is one of them.</summary>
        Search,

        /// <summary>One run of an optimiser the method brings, from that optimiser's defaults (the learning-rate-free rules).</summary>
        OwnRule,
    }

    /// <summary>
    /// One method selectable by name (TrainTuneMethod, TrainTuneMethods, ExperimentProtocol):
    /// its kind, what it tunes, and whether an experiment may stack its seeds as one population.
    /// What it can do follows from its kind.
    /// </summary>
    internal sealed record MethodEntry(string Name, MethodKind Kind, string Tunes, bool Stacks = true)
    {
        /// <summary>Whether a run of it keeps a checkpoint to resume from (a search keeps none).</summary>
        public bool Resumes => Kind != MethodKind.Search;

        /// <summary>Whether it takes several starts (TrainTuneStarts): a search already is several runs, and an own rule starts from its defaults, not from drawn values.</summary>
        public bool TakesSeveralStarts => Kind == MethodKind.OneRun;

        /// <summary>Whether the paper's random initial values apply (not to an optimiser started from its own defaults).</summary>
        public bool DrawsInitialValues => Kind != MethodKind.OwnRule;
    }

    /// <summary>The methods, each declared once; the build's knob check, the host and the runtime all ask here.</summary>
    internal static class MethodCatalogue
    {
        public static readonly MethodEntry[] All =
        {
            new(MethodName.OnePass, MethodKind.OneRun, "every hyperparameter of the rule, one-pass"),
            new(MethodName.Fixed, MethodKind.OneRun, "nothing"),
            new(MethodName.Random, MethodKind.OneRun, "nothing; trains on training + validation data"),
            new(MethodName.RandomLrMultiplier, MethodKind.OneRun, "nothing; the learning rate multiplied by a drawn factor every block"),
            new(MethodName.Random3Batched, MethodKind.Search, "nothing; the best of three fixed runs by validation loss"),
            new(MethodName.Lorraine, MethodKind.OneRun, "weight decay, one-pass"),
            new(MethodName.Baydin, MethodKind.OneRun, "the learning rate, by hypergradient descent every step"),
            new(MethodName.OursWdLr, MethodKind.OneRun, "learning rate and weight decay, one-pass"),
            new(MethodName.OursWdLrM, MethodKind.OneRun, "learning rate, weight decay and momentum, one-pass"),
            new(MethodName.OursWdHdlrM, MethodKind.OneRun, "a learning rate per weight, weight decay and momentum, one-pass"),
            new(MethodName.DiffThroughOpt, MethodKind.OneRun, "learning rate, weight decay and momentum, through 5 unrolled steps"),
            new(MethodName.BayesOpt, MethodKind.Search, "learning rate, weight decay and momentum, by Bayesian optimisation over whole runs", Stacks: false),
            new(MethodName.ScheduleFree, MethodKind.OwnRule, "nothing; Schedule-Free AdamW from its defaults"),
            new(MethodName.Prodigy, MethodKind.OwnRule, "nothing; Prodigy from its defaults"),
            new(MethodName.DAdaptation, MethodKind.OwnRule, "nothing; D-Adaptation Adam from its defaults"),
            new(MethodName.DoG, MethodKind.OwnRule, "nothing; DoG from its defaults"),
            new(MethodName.OursProdigy, MethodKind.OwnRule, "Prodigy's step-size factor and β1, one-pass"),
            new(MethodName.OursScheduleFree, MethodKind.OwnRule, "Schedule-Free AdamW's learning rate and β1, one-pass"),
        };

        /// <summary>Every name, in the catalogue's order.</summary>
        public static IReadOnlyList<string> Names => All.Select(m => m.Name).ToArray();

        /// <summary>The entry named <paramref name="name"/> (without regard to case), or null.</summary>
        public static MethodEntry? Find(string? name) =>
            name is null ? null : All.FirstOrDefault(m => string.Equals(m.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

        /// <summary>Why <paramref name="name"/> is not a method, naming <paramref name="knob"/>, or null.</summary>
        public static string? UnknownProblem(string knob, string name) =>
            Find(name) is null ? $"{knob}='{name}' is not a known method; the valid ones are: {string.Join(", ", Names)}." : null;

        /// <summary>Why a run of <paramref name="method"/> cannot resume from its checkpoint (TrainTuneResume=true), or null.</summary>
        public static string? ResumeProblem(MethodEntry method) =>
            method.Resumes ? null
            : $"TrainTuneResume=true cannot resume TrainTuneMethod={method.Name}: a search over whole runs keeps no checkpoint; run it again without TrainTuneResume.";

        /// <summary>Why <paramref name="method"/> cannot train <paramref name="starts"/> starts (TrainTuneStarts), or null.</summary>
        public static string? StartsProblem(MethodEntry method, int starts) =>
            starts <= 1 || method.TakesSeveralStarts ? null
            : method.Kind == MethodKind.Search
                ? $"TrainTuneStarts={starts} cannot be combined with TrainTuneMethod={method.Name}, itself a search over whole runs; use one or the other."
                : $"TrainTuneStarts={starts} cannot be combined with TrainTuneMethod={method.Name}: its optimiser starts from its own defaults, and the other starts would draw the paper's random values for SGD's hyperparameters; leave TrainTuneStarts at 1.";
    }

    /// <summary>The method names, each written once.</summary>
    internal static class MethodName
    {
        public const string OnePass = nameof(OnePass), Fixed = nameof(Fixed), Random = nameof(Random), RandomLrMultiplier = nameof(RandomLrMultiplier),
            Random3Batched = nameof(Random3Batched), Lorraine = nameof(Lorraine), Baydin = nameof(Baydin), OursWdLr = nameof(OursWdLr),
            OursWdLrM = nameof(OursWdLrM), OursWdHdlrM = nameof(OursWdHdlrM), DiffThroughOpt = nameof(DiffThroughOpt), BayesOpt = nameof(BayesOpt),
            ScheduleFree = nameof(ScheduleFree), Prodigy = nameof(Prodigy), DAdaptation = nameof(DAdaptation), DoG = nameof(DoG),
            OursProdigy = nameof(OursProdigy), OursScheduleFree = nameof(OursScheduleFree);
    }
}
