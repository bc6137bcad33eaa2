Console.WriteLine("The training targets Energy, Kin8nm and Power run with: dotnet build samples/UciRegression -t:TrainTune");
