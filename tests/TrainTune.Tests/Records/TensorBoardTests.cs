using TrainTune.Tests.Training;
using static TorchSharp.torch;

namespace TrainTune.Tests.Records;

/// <summary>
/// TensorBoard event files read back independently: TFRecord framing (length, masked CRC-32C of
/// the length, the Event protobuf, masked CRC-32C of it), then the scalars against the record.
/// </summary>
public class TensorBoardTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-tensorboard-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Every_block_writes_losses_hyperparameters_and_the_hypergradient_and_they_match_the_record()
    {
        var board = Path.Combine(_folder, "tensorboard");
        var record = Path.Combine(_folder, "record.jsonl");
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4, perWeightLearningRate: true), Loss.MeanSquaredError)
            .On(Tasks.Regression()).Tune(Method.OnePass()).ForSteps(60).WithBatchSize(32).WithSeed(3)
            .RecordTo(record).LogToTensorBoard(board).Run();

        var file = Assert.Single(Directory.GetFiles(board, "events.out.tfevents.*"));
        var events = ReadRecords(File.ReadAllBytes(file)).Select(ParseEvent).ToList();
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        var scalars = events.Where(e => e.Tag is not null).GroupBy(e => e.Tag!).ToDictionary(g => g.Key, g => g.ToDictionary(e => e.Step, e => e.Value));

        var blocks = Hosting.RecordFile.ReadBlocks(record);
        Assert.Equal(6, blocks.Count);
        foreach (var block in blocks)
        {
            Assert.Equal((float)block.TrainLoss, scalars["loss/train"][block.Step]);
            Assert.Equal((float)block.ValidationLoss, scalars["loss/validation"][block.Step]);
            Assert.Equal((float)block.HypergradientNorm!.Value, scalars["hypergradient/norm"][block.Step]);
            Assert.Equal(0f, scalars["hypergradient/skipped"][block.Step]);
            Assert.Equal((float)block.Hyperparameters["momentum"].Value, scalars["hyperparameters/momentum"][block.Step]);
            var learningRate = block.Hyperparameters["learningRate"];
            Assert.Equal((float)learningRate.Value, scalars["hyperparameters/learningRate"][block.Step]);
            Assert.Equal((float)learningRate.Min, scalars["hyperparameters/learningRate/min"][block.Step]);
            Assert.Equal((float)learningRate.Max, scalars["hyperparameters/learningRate/max"][block.Step]);
        }
        Assert.False(scalars.ContainsKey("hyperparameters/momentum/min"), "a scalar hyperparameter has no min/max series");
    }

    [Fact]
    public void A_tuner_in_a_loop_of_ones_own_writes_the_same_scalars()
    {
        var board = Path.Combine(_folder, "loop");
        var data = Tasks.Regression();
        var model = Tasks.Mlp();
        using var tuner = Tuner.For(model, Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Method.OnePass()).LogToTensorBoard(board);
        for (var step = 0; step < 30; step++)
            tuner.Step(Loss.MeanSquaredError.Compute(model.call(data.Train.Inputs), data.Train.Targets),
                m => Loss.MeanSquaredError.Compute(m.call(data.Validation.Inputs), data.Validation.Targets));
        var events = ReadRecords(File.ReadAllBytes(Assert.Single(Directory.GetFiles(board, "events.out.tfevents.*")))).Select(ParseEvent).ToList();
        var validation = events.Where(e => e.Tag == "loss/validation").ToList();
        Assert.Equal(tuner.History.Select(b => b.Step), validation.Select(e => (int)e.Step));
        Assert.Equal(tuner.History.Select(b => (float)b.ValidationLoss), validation.Select(e => e.Value));
    }

    [Fact]
    public void A_grouped_hyperparameter_is_written_per_group_by_name()
    {
        var board = Path.Combine(_folder, "groups");
        var record = Path.Combine(_folder, "groups.jsonl");
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(1e-3, 0.5, 1e-4), Loss.MeanSquaredError).On(Tasks.Regression()).Tune(Method.OnePass()).ForSteps(30)
            .WithGroups(ParameterGroup.NoWeightDecayOnBiasesAndNorms()).WithPerGroup("learningRate").RecordTo(record).LogToTensorBoard(board).Run();
        var events = ReadRecords(File.ReadAllBytes(Assert.Single(Directory.GetFiles(board, "events.out.tfevents.*")))).Select(ParseEvent).ToList();
        var scalars = events.Where(e => e.Tag is not null).GroupBy(e => e.Tag!).ToDictionary(g => g.Key, g => g.ToDictionary(e => e.Step, e => e.Value));
        foreach (var block in Hosting.RecordFile.ReadBlocks(record))
        {
            foreach (var group in new[] { "decay", "no_decay" })
                Assert.Equal((float)block.Hyperparameters["learningRate"].PerGroup![group], scalars[$"hyperparameters/learningRate/{group}"][block.Step]);
            Assert.Equal(0f, scalars["hyperparameters/weightDecay/no_decay"][block.Step]);
        }
    }

    [Fact]
    public void A_runs_metric_is_written_at_its_last_step()
    {
        var board = Path.Combine(_folder, "metric");
        var result = TuningRun.Of(() => new SmallCnn(), new Sgd(0.1), Loss.CrossEntropy).On(SmallCnn.Task()).ForSteps(20).WithBatchSize(16)
            .InPrecision(TorchSharp.torch.ScalarType.Float64).WithMetric(Metric.Accuracy).LogToTensorBoard(board).Run();
        var events = ReadRecords(File.ReadAllBytes(Assert.Single(Directory.GetFiles(board, "events.out.tfevents.*")))).Select(ParseEvent).ToList();
        var test = Assert.Single(events, e => e.Tag == "metric/accuracy/test");
        Assert.Equal(20, test.Step);
        Assert.Equal((float)result.Metric!.Test!.Value, test.Value);
        Assert.Equal((float)result.Metric.Validation, Assert.Single(events, e => e.Tag == "metric/accuracy/validation").Value);
    }

    sealed record Event(long Step, string? FileVersion, string? Tag, float Value);

    /// <summary>The TFRecord framing, each checksum checked.</summary>
    static IEnumerable<byte[]> ReadRecords(byte[] bytes)
    {
        var at = 0;
        while (at < bytes.Length)
        {
            var length = BitConverter.ToUInt64(bytes, at);
            Assert.Equal(MaskedCrc(bytes.AsSpan(at, 8)), BitConverter.ToUInt32(bytes, at + 8));
            var data = bytes.AsSpan(at + 12, (int)length).ToArray();
            Assert.Equal(MaskedCrc(data), BitConverter.ToUInt32(bytes, at + 12 + (int)length));
            at += 12 + (int)length + 4;
            yield return data;
        }
    }

    /// <summary>TFRecord's mask of CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).</summary>
    static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc ^= 0xFFFFFFFFu;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    /// <summary>tensorflow.Event: 2 step (varint), 3 file_version (string), 5 summary { 1 value { 1 tag, 2 simple_value (float) } }.</summary>
    static Event ParseEvent(byte[] data)
    {
        long step = 0;
        string? version = null, tag = null;
        var value = float.NaN;
        foreach (var (field, wire, payload, number) in Fields(data))
        {
            if (field == 2 && wire == 0) step = (long)number;
            else if (field == 3 && wire == 2) version = System.Text.Encoding.UTF8.GetString(payload);
            else if (field == 5 && wire == 2)
                foreach (var (summaryField, _, summaryValue, _) in Fields(payload))
                    if (summaryField == 1)
                        foreach (var (valueField, valueWire, valuePayload, _) in Fields(summaryValue))
                        {
                            if (valueField == 1) tag = System.Text.Encoding.UTF8.GetString(valuePayload);
                            else if (valueField == 2 && valueWire == 5) value = BitConverter.ToSingle(valuePayload);
                        }
        }
        return new Event(step, version, tag, value);
    }

    /// <summary>Protobuf wire format: (field, wire type, bytes of a length-delimited or fixed field, value of a varint).</summary>
    static IEnumerable<(int Field, int Wire, byte[] Payload, ulong Number)> Fields(byte[] data)
    {
        var at = 0;
        ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data[at++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return result;
            }
        }
        while (at < data.Length)
        {
            var key = Varint();
            var (field, wire) = ((int)(key >> 3), (int)(key & 7));
            switch (wire)
            {
                case 0: yield return (field, wire, [], Varint()); break;
                case 1: yield return (field, wire, data[at..(at += 8)], 0); break;
                case 2: var length = (int)Varint(); yield return (field, wire, data[at..(at += length)], 0); break;
                case 5: yield return (field, wire, data[at..(at += 4)], 0); break;
                default: throw new InvalidDataException($"wire type {wire}");
            }
        }
    }
}
