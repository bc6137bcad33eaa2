Console.WriteLine("The training targets FashionMnist and FashionMnistBatchNorm run with: dotnet build samples/FashionMnist -t:TrainTune");
