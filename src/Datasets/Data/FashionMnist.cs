using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Fashion-MNIST with the paper's protocol: the first 50,000 training images for training, the
/// last 10,000 for validation, the 10,000 test images for test; images flattened to 784
/// inputs, z-scored per pixel with the training+validation statistics (std 0 replaced by 1);
/// labels as int64 class indices.
/// </summary>
public static class FashionMnist
{
    public const int TrainRows = 50_000, ValidationRows = 10_000;

    public static TrainingData Load(DataRoot? root = null)
    {
        root ??= new DataRoot();
        var sources = new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }
            .Select(f => root.Locate($"fashion-mnist/{f}.gz")).ToArray();
        // Cached: the decompressed pixels (55 MB of bytes, not four times that as normalised floats) and the per-pixel statistics.
        var raw = ParsedDataCache.GetOrParse("fashion-mnist", "idx-2", sources, () =>
        {
            var (trainImages, trainLabels) = Pair(sources[0], sources[1], "train");
            var (testImages, testLabels) = Pair(sources[2], sources[3], "t10k");
            if (trainImages.shape[0] < TrainRows + ValidationRows)
                throw new TrainTuneException($"The Fashion-MNIST training file has {trainImages.shape[0]} images; the protocol needs {TrainRows + ValidationRows}.");
            var fit = trainImages.narrow(0, 0, TrainRows + ValidationRows).to(ScalarType.Float32);
            var std = fit.std(0, unbiased: true, keepdim: true);
            return new()
            {
                ["train/images"] = trainImages,
                ["train/labels"] = trainLabels,
                ["test/images"] = testImages,
                ["test/labels"] = testLabels,
                ["mean"] = fit.mean([0], keepdim: true),
                ["std"] = torch.where(std == 0, torch.ones_like(std), std),
            };
        });
        var (mean, std) = (raw["mean"], raw["std"]);
        Tensor Images(string split, long start, long count) => raw[$"{split}/images"].narrow(0, start, count).to(ScalarType.Float32);
        Tensor Labels(string split, long start, long count) => raw[$"{split}/labels"].narrow(0, start, count).to(ScalarType.Int64);
        var testRows = raw["test/images"].shape[0];
        Split Part(string split, long start, long count) => new((Images(split, start, count) - mean) / std, Labels(split, start, count));
        return new TrainingData(Part("train", 0, TrainRows), Part("train", TrainRows, ValidationRows), Part("test", 0, testRows));
    }

    static (Tensor Images, Tensor Labels) Pair(string imagesPath, string labelsPath, string prefix)
    {
        var (imageShape, images) = Idx.Read(imagesPath, Idx.ImagesMagic);
        var (labelShape, labels) = Idx.Read(labelsPath, Idx.LabelsMagic);
        if (imageShape[0] != labelShape[0])
            throw new TrainTuneException($"Fashion-MNIST {prefix}: {imageShape[0]} images but {labelShape[0]} labels.");
        var pixels = imageShape.Skip(1).Aggregate(1, (a, b) => a * b);
        return (torch.tensor(images, [imageShape[0], pixels], ScalarType.Byte), torch.tensor(labels, [labelShape[0]], ScalarType.Byte));
    }
}
