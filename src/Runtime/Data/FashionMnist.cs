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
        // The decompressed pixels are cached (55 MB of bytes), not the normalised floats (four times that).
        var raw = ParsedDataCache.GetOrParse("fashion-mnist", "idx-1", sources, () =>
        {
            var (trainImages, trainLabels) = Pair(sources[0], sources[1], "train");
            var (testImages, testLabels) = Pair(sources[2], sources[3], "t10k");
            return new() { ["train/images"] = trainImages, ["train/labels"] = trainLabels, ["test/images"] = testImages, ["test/labels"] = testLabels };
        });
        Tensor Images(string split) => raw[$"{split}/images"].to(ScalarType.Float32);
        Tensor Labels(string split) => raw[$"{split}/labels"].to(ScalarType.Int64);
        var (trainImages, trainLabels, testImages, testLabels) = (Images("train"), Labels("train"), Images("test"), Labels("test"));
        if (trainImages.shape[0] < TrainRows + ValidationRows)
            throw new TrainTuneException($"The Fashion-MNIST training file has {trainImages.shape[0]} images; the protocol needs {TrainRows + ValidationRows}.");
        var fit = trainImages.narrow(0, 0, TrainRows + ValidationRows);
        var mean = fit.mean([0], keepdim: true);
        var std = fit.std(0, unbiased: true, keepdim: true);
        std = torch.where(std == 0, torch.ones_like(std), std);
        Tensor Normalise(Tensor images) => (images - mean) / std;
        return new TrainingData(
            new Split(Normalise(trainImages.narrow(0, 0, TrainRows)), trainLabels.narrow(0, 0, TrainRows)),
            new Split(Normalise(trainImages.narrow(0, TrainRows, ValidationRows)), trainLabels.narrow(0, TrainRows, ValidationRows)),
            new Split(Normalise(testImages), testLabels));
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
