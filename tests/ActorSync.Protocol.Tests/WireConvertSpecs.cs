using ActorSync.Core.Causality;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Wire;
using CsCheck;
using Google.Protobuf;
using Xunit;

namespace ActorSync.Protocol.Tests;

/// <summary>
/// <see cref="WireConvert"/> between core values and their protobuf form: exact round trips, and
/// network input that is not a valid id or vector refused with <see cref="WireFormatException"/>
/// and nothing else (ARCHITECTURE.md section 6, invariant 5).
/// </summary>
public sealed class WireConvertSpecs
{
    /// <summary>True when the conversion accepted the input, false on <see cref="WireFormatException"/>; fails on any other exception.</summary>
    private static bool Accepts(Action convert)
    {
        try
        {
            convert();
            return true;
        }
        catch (WireFormatException)
        {
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"WireConvert threw {e.GetType().Name} instead of WireFormatException: {e.Message}");
            return false;
        }
    }

    private static ByteString Bytes(int length, byte fill = 0xAB) => ByteString.CopyFrom(Enumerable.Repeat(fill, length).ToArray());

    // ---- ids ---------------------------------------------------------------------------------

    [Fact]
    public void WireConvert_should_round_trip_workspace_ids() =>
        ProtocolGen.Workspace.Sample(id =>
        {
            var wire = id.ToWire();
            Assert.Equal(WorkspaceId.Size, wire.Length);
            Assert.Equal(id.ToBytes(), wire.ToByteArray());
            Assert.Equal(id, wire.ToWorkspaceId());
        }, iter: 1000);

    [Fact]
    public void WireConvert_should_round_trip_device_ids() =>
        ProtocolGen.Device.Sample(id =>
        {
            var wire = id.ToWire();
            Assert.Equal(Fingerprint.Size, wire.Length);
            Assert.Equal(id.Value.ToBytes(), wire.ToByteArray());
            Assert.Equal(id, wire.ToDeviceId());
        }, iter: 1000);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(20)]
    [InlineData(32)]
    [InlineData(4096)]
    public void WireConvert_should_refuse_a_workspace_id_of_the_wrong_length(int length)
    {
        var e = Assert.Throws<WireFormatException>(() => Bytes(length).ToWorkspaceId());
        Assert.Contains("workspace id", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(19)]
    [InlineData(21)]
    [InlineData(32)]
    [InlineData(4096)]
    public void WireConvert_should_refuse_a_device_id_of_the_wrong_length(int length)
    {
        var e = Assert.Throws<WireFormatException>(() => Bytes(length).ToDeviceId());
        Assert.Contains("device id", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WireConvert_should_accept_exactly_the_right_id_lengths_and_throw_nothing_but_WireFormatException() =>
        Gen.Byte.Array[0, 48].Sample(raw =>
        {
            var bytes = ByteString.CopyFrom(raw);
            Assert.Equal(raw.Length == WorkspaceId.Size, Accepts(() => bytes.ToWorkspaceId()));
            Assert.Equal(raw.Length == Fingerprint.Size, Accepts(() => bytes.ToDeviceId()));
        }, iter: 2000);

    // ---- version vectors ---------------------------------------------------------------------

    [Fact]
    public void WireConvert_should_round_trip_version_vectors() =>
        ProtocolGen.Vector.Sample(vv =>
        {
            var wire = vv.ToWire();
            Assert.Equal(vv.Count, wire.Entries.Count);
            Assert.Equal(vv, wire.ToVersionVector());
            // And through protobuf bytes, as it travels in a Summary or an Ack.
            Assert.Equal(vv, VersionVectorMsg.Parser.ParseFrom(wire.ToByteArray()).ToVersionVector());
        }, iter: 1000);

    [Fact]
    public void WireConvert_should_read_a_vector_whatever_the_order_of_its_entries() =>
        Gen.Select(ProtocolGen.Vector, Gen.Int).Sample((vv, seed) =>
        {
            var wire = vv.ToWire();
            var shuffled = new VersionVectorMsg();
            shuffled.Entries.AddRange(wire.Entries.OrderBy(_ => new Random(seed).Next()).ToList());
            Assert.Equal(vv, shuffled.ToVersionVector());
        }, iter: 500);

    [Fact]
    public void WireConvert_should_read_a_missing_vector_as_empty()
    {
        Assert.Equal(VersionVector.Empty, ((VersionVectorMsg?)null).ToVersionVector());
        Assert.Equal(VersionVector.Empty, new VersionVectorMsg().ToVersionVector());
        // A Summary without its vector field: what an old or terse peer sends.
        Assert.Equal(VersionVector.Empty, Summary.Parser.ParseFrom(new Summary { Workspace = Bytes(16) }.ToByteArray()).Seen.ToVersionVector());
    }

    [Fact]
    public void WireConvert_should_drop_zero_entries_as_no_deltas_seen()
    {
        var device = new DeviceId(new Fingerprint(1, 2, 3));
        var other = new DeviceId(new Fingerprint(4, 5, 6));
        var msg = new VersionVectorMsg
        {
            Entries =
            {
                new VectorEntry { Device = device.ToWire(), Seq = 0 },
                new VectorEntry { Device = other.ToWire(), Seq = 7 },
            },
        };
        var vv = msg.ToVersionVector();
        Assert.Equal(1, vv.Count);
        Assert.Equal(0UL, vv[device]);
        Assert.Equal(7UL, vv[other]);
    }

    [Fact]
    public void WireConvert_should_refuse_a_vector_that_names_a_device_twice()
    {
        var device = new DeviceId(new Fingerprint(1, 2, 3)).ToWire();
        foreach (var (first, second) in new (ulong, ulong)[] { (1, 1), (1, 2), (5, 0), (0, 0) })
        {
            var msg = new VersionVectorMsg { Entries = { new VectorEntry { Device = device, Seq = first }, new VectorEntry { Device = device, Seq = second } } };
            var e = Assert.Throws<WireFormatException>(() => msg.ToVersionVector());
            Assert.Contains("twice", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(19)]
    [InlineData(21)]
    public void WireConvert_should_refuse_a_vector_entry_whose_device_id_has_the_wrong_length(int length)
    {
        var msg = new VersionVectorMsg
        {
            Entries =
            {
                new VectorEntry { Device = new DeviceId(new Fingerprint(1, 2, 3)).ToWire(), Seq = 1 },
                new VectorEntry { Device = Bytes(length), Seq = 1 },
            },
        };
        Assert.Throws<WireFormatException>(() => msg.ToVersionVector());
    }

    [Fact]
    public void WireConvert_should_refuse_a_vector_with_more_entries_than_a_vector_may_hold()
    {
        var msg = new VersionVectorMsg();
        for (var i = 0; i <= VersionVector.MaxEntries; i++)
            msg.Entries.Add(new VectorEntry { Device = new DeviceId(new Fingerprint((ulong)i, 0, 0)).ToWire(), Seq = 1 });
        var e = Assert.Throws<WireFormatException>(() => msg.ToVersionVector());
        Assert.Contains("too many", e.Message, StringComparison.Ordinal);

        msg.Entries.RemoveAt(0);
        Assert.Equal(VersionVector.MaxEntries, msg.ToVersionVector().Count);
    }

    [Fact]
    public void WireConvert_should_read_any_vector_a_remote_device_sends_or_refuse_it_with_WireFormatException_only() =>
        ProtocolGen.AnyVectorMsg.Sample(msg =>
        {
            var wellFormed = msg.Entries.All(e => e.Device.Length == Fingerprint.Size)
                             && msg.Entries.Select(e => e.Device).Distinct().Count() == msg.Entries.Count;
            VersionVector? read = null;
            Assert.Equal(wellFormed, Accepts(() => read = msg.ToVersionVector()));
            if (read is null) return;
            // What was accepted means exactly what was sent (zero entries mean nothing seen).
            foreach (var e in msg.Entries) Assert.Equal(e.Seq, read[e.Device.ToDeviceId()]);
            Assert.Equal(msg.Entries.Count(e => e.Seq > 0), read.Count);
        }, iter: 2000);

    [Fact]
    public void WireConvert_should_refuse_random_bytes_read_as_a_vector_with_WireFormatException_or_a_protobuf_parse_error() =>
        Gen.Byte.Array[0, 200].Sample(raw =>
        {
            VersionVectorMsg msg;
            try
            {
                msg = VersionVectorMsg.Parser.ParseFrom(raw);
            }
            catch (InvalidProtocolBufferException)
            {
                return; // the gRPC layer's refusal, before WireConvert sees anything
            }
            Accepts(() => msg.ToVersionVector());
        }, iter: 2000);
}
