namespace TrainTune;

/// <summary>A problem with what the user asked for, with what to do about it in the message.</summary>
public sealed class TrainTuneException(string message, Exception? inner = null) : Exception(message, inner);
