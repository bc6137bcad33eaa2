Console.WriteLine("The training target FashionMnist runs with: dotnet build samples/FashionMnist -t:TrainTune");
