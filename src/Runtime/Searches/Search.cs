namespace TrainTune;

/// <summary>
/// The paper's searches over whole training runs, the baselines that cost several runs:
/// <see cref="Random3Batched"/> and <see cref="BayesOpt"/>.
/// </summary>
public static class Search
{
    /// <summary>
    /// Three runs of <paramref name="run"/> with fixed hyperparameters on the training data only;
    /// the one with the lowest final validation loss counts (3× the compute). Candidate 0 is the
    /// run as it is; candidates 1 and 2 have the paper's random initial values for their own seeds.
    /// With <paramref name="outputDirectory"/>, each candidate's record is
    /// <c>record-candidate-N.jsonl</c> there and the counted one is copied to <c>record.jsonl</c>.
    /// A model that stacks trains the three as one population; otherwise they run one after
    /// another, and a candidate whose validation loss does not beat an earlier one's cannot count:
    /// its train loss is NaN and its test loss null (not evaluated).
    /// </summary>
    public static SearchOutcome Random3Batched(TuningRun run, string? outputDirectory = null) =>
        Random3BatchedSearch.Run(run, outputDirectory);

    /// <summary>
    /// Bayesian optimisation of the final validation loss over whole runs of <paramref name="run"/>
    /// with fixed hyperparameters: <paramref name="randomEvaluations"/> at random, then
    /// <paramref name="guidedEvaluations"/> chosen by expected improvement under a Gaussian process,
    /// over the paper's ranges. With <paramref name="outputDirectory"/>, every evaluation is listed
    /// in <c>bayesopt.csv</c> there and the counted run's record is <c>record.jsonl</c>. An
    /// evaluation whose validation loss does not beat every earlier one's cannot count: its train
    /// loss is NaN and its test loss null (not evaluated).
    /// </summary>
    public static SearchOutcome BayesOpt(TuningRun run, string? outputDirectory = null, int randomEvaluations = 5, int guidedEvaluations = 25) =>
        BayesOptSearch.Run(run, outputDirectory, randomEvaluations, guidedEvaluations);
}
