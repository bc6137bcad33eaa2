using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>Penn Treebank (Mikolov's word-level text): token ids of the three files, with a vocabulary built from training ("&lt;eos&gt;" ends each line).</summary>
public sealed record PennTreebank(IReadOnlyList<string> Vocabulary, Tensor Train, Tensor Validation, Tensor Test)
{
    public const string EndOfSentence = "<eos>";

    public static PennTreebank Load(DataRoot? root = null)
    {
        root ??= new DataRoot();
        var train = Words(root.Locate("ptb/ptb.train.txt"));
        var vocabulary = new List<string>();
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var word in train)
            if (!ids.ContainsKey(word)) { ids[word] = vocabulary.Count; vocabulary.Add(word); }
        Tensor Encode(string path, IEnumerable<string> words) => torch.tensor(words.Select(w => ids.TryGetValue(w, out var id) ? id
            : throw new TrainTuneException($"'{path}' has the word '{w}', which is not in the training vocabulary; Penn Treebank files map rare words to <unk>.")).ToArray());
        var validationPath = root.Locate("ptb/ptb.valid.txt");
        var testPath = root.Locate("ptb/ptb.test.txt");
        return new PennTreebank(vocabulary, torch.tensor(train.Select(w => ids[w]).ToArray()),
            Encode(validationPath, Words(validationPath)), Encode(testPath, Words(testPath)));
    }

    static List<string> Words(string path) =>
        File.ReadLines(path).SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append(EndOfSentence)).ToList();
}
