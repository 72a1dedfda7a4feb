using ActorSync.Protocol.Wire;
using CsCheck;
using Google.Protobuf;
using Xunit;

namespace ActorSync.Protocol.Tests;

/// <summary>Every body kind of a <see cref="LinkFrame"/> survives protobuf bytes unchanged, alone and in a stream of frames.</summary>
public sealed class LinkFrameSpecs
{
    [Fact]
    public void LinkFrame_generators_should_cover_every_body_kind()
    {
        var kinds = Enum.GetValues<LinkFrame.BodyOneofCase>().Where(k => k != LinkFrame.BodyOneofCase.None).Order();
        Assert.Equal(kinds, ProtocolGen.FrameBodies.Keys.Order());
        Assert.Equal(kinds.Count(), LinkFrame.Descriptor.Oneofs.Single().Fields.Count);
    }

    public static TheoryData<LinkFrame.BodyOneofCase> BodyKinds
    {
        get
        {
            var data = new TheoryData<LinkFrame.BodyOneofCase>();
            foreach (var kind in ProtocolGen.FrameBodies.Keys) data.Add(kind);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BodyKinds))]
    public void LinkFrame_should_round_trip_each_body_kind_through_protobuf_bytes(LinkFrame.BodyOneofCase kind) =>
        ProtocolGen.FrameBodies[kind].Sample(frame =>
        {
            var back = LinkFrame.Parser.ParseFrom(frame.ToByteArray());
            Assert.Equal(kind, back.BodyCase);
            Assert.Equal(frame, back);
            Assert.Equal(frame.CalculateSize(), back.ToByteArray().Length);
        }, iter: 500);

    [Fact]
    public void LinkFrame_should_round_trip_a_stream_of_delimited_frames_in_order() =>
        ProtocolGen.AnyFrame.Array[0, 20].Sample(frames =>
        {
            using var stream = new MemoryStream();
            foreach (var f in frames) f.WriteDelimitedTo(stream);
            stream.Position = 0;
            var back = new List<LinkFrame>();
            while (stream.Position < stream.Length) back.Add(LinkFrame.Parser.ParseDelimitedFrom(stream));
            Assert.Equal(frames, back);
        }, iter: 300);

    [Fact]
    public void LinkFrame_should_round_trip_an_empty_frame_as_no_body()
    {
        var back = LinkFrame.Parser.ParseFrom(new LinkFrame().ToByteArray());
        Assert.Equal(LinkFrame.BodyOneofCase.None, back.BodyCase);
        Assert.Equal(new LinkFrame(), back);
    }

    [Fact]
    public void LinkFrame_should_keep_its_body_when_a_newer_peer_adds_fields_it_does_not_know() =>
        ProtocolGen.AnyFrame.Sample(frame =>
        {
            // Field 99 (varint) and field 100 (bytes): what a later protocol version might add.
            var extra = new MemoryStream();
            var output = new CodedOutputStream(extra);
            output.WriteTag(99, WireFormat.WireType.Varint);
            output.WriteUInt64(12345);
            output.WriteTag(100, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFromUtf8("future"));
            output.Flush();
            var back = LinkFrame.Parser.ParseFrom([.. frame.ToByteArray(), .. extra.ToArray()]);
            Assert.Equal(frame.BodyCase, back.BodyCase);
            Assert.Equal(frame.Body(), back.Body());
        }, iter: 300);

    [Fact]
    public void LinkFrame_should_keep_the_last_body_when_one_frame_carries_two()
    {
        // Protobuf oneof semantics: the later field wins. A peer must read what the sender wrote last.
        var bytes = new LinkFrame { Ping = new Ping { Nonce = 1 } }.ToByteArray()
            .Concat(new LinkFrame { Refusal = new Refusal { Reason = "no" } }.ToByteArray()).ToArray();
        var back = LinkFrame.Parser.ParseFrom(bytes);
        Assert.Equal(LinkFrame.BodyOneofCase.Refusal, back.BodyCase);
        Assert.Equal("no", back.Refusal.Reason);
    }

    [Fact]
    public void DeviceLink_should_offer_Connect_as_one_bidirectional_stream_of_frames()
    {
        var connect = LinkReflection.Descriptor.Services.Single(s => s.Name == "DeviceLink").FindMethodByName("Connect");
        Assert.True(connect.IsClientStreaming);
        Assert.True(connect.IsServerStreaming);
        Assert.Equal(LinkFrame.Descriptor, connect.InputType);
        Assert.Equal(LinkFrame.Descriptor, connect.OutputType);
        Assert.Equal("actorsync.v1", LinkReflection.Descriptor.Package);
    }
}

internal static class LinkFrameBody
{
    /// <summary>The message inside the frame's oneof, whichever kind it is.</summary>
    public static IMessage? Body(this LinkFrame frame) => frame.BodyCase switch
    {
        LinkFrame.BodyOneofCase.Hello => frame.Hello,
        LinkFrame.BodyOneofCase.Summary => frame.Summary,
        LinkFrame.BodyOneofCase.Deltas => frame.Deltas,
        LinkFrame.BodyOneofCase.Ack => frame.Ack,
        LinkFrame.BodyOneofCase.Invitation => frame.Invitation,
        LinkFrame.BodyOneofCase.Ping => frame.Ping,
        LinkFrame.BodyOneofCase.Refusal => frame.Refusal,
        LinkFrame.BodyOneofCase.Receipt => frame.Receipt,
        LinkFrame.BodyOneofCase.Image => frame.Image,
        _ => null,
    };
}
