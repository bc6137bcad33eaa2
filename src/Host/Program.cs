return TrainTune.Hosting.HostProgram.Main(args);
