using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using ActorSync.Protocol.Journal;
using ActorSync.Protocol.Wire;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Xunit;
using AkkaSerialization = Akka.Serialization.Serialization;

namespace ActorSync.Protocol.Tests;

/// <summary>
/// Every journal event through <see cref="JournalSerializer"/>: byte-exact round trips under short,
/// stable manifests, refusal of unknown manifests and of anything that is not a journal event, and
/// the binding in the shipped config/peer.hocon that makes Akka use it.
/// </summary>
public sealed class JournalSerializerSpecs : Akka.TestKit.Xunit2.TestKit
{
    private readonly JournalSerializer _serializer;

    public JournalSerializerSpecs() : base(PeerHocon(), "journal-serializer-specs") =>
        _serializer = new JournalSerializer((ExtendedActorSystem)Sys);

    private static Config PeerHocon() =>
        ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "peer.hocon")));

    /// <summary>What old journals on users' disks are written with: changing one of these breaks their recovery.</summary>
    public static TheoryData<Type, string> StableManifests => new()
    {
        { typeof(DeltasRecorded), "d" },
        { typeof(DeltaRecorded), "d1" },
        { typeof(KeyringRecorded), "k" },
        { typeof(WorkspaceJoined), "wj" },
        { typeof(WorkspaceCreated), "wc" },
        { typeof(WorkspaceForgotten), "wf" },
        { typeof(ContactRecorded), "c" },
        { typeof(InvitationRecorded), "i" },
        { typeof(InvitationDismissed), "ix" },
        { typeof(ReceiptRecorded), "rr" },
        { typeof(WorkspaceLeft), "wl" },
        { typeof(MemberSeen), "sn" },
        { typeof(WorkspaceEntered), "we" },
        { typeof(InvitationForgotten), "if" },
        { typeof(WorkspaceSnapshot), "ss" },
    };

    [Theory]
    [MemberData(nameof(StableManifests))]
    public void JournalSerializer_should_name_each_event_with_its_stable_manifest(Type type, string manifest)
    {
        var sample = (IMessage)Activator.CreateInstance(type)!;
        Assert.Equal(manifest, _serializer.Manifest(sample));
    }

    [Fact]
    public void JournalSerializer_should_pin_a_manifest_for_every_event_of_journal_proto()
    {
        // Adding a peer journal event means adding its manifest to the table above: it is a file format.
        var types = JournalReflection.Descriptor.MessageTypes.Select(m => m.ClrType).OrderBy(t => t.Name);
        Assert.Equal(types, StableManifests.Select(row => (Type)row[0]).OrderBy(t => t.Name));
        // Every journal type has a generator, so the round-trip property below covers all of them.
        Assert.Equal(types, ProtocolGen.JournalEvents.Keys.OrderBy(t => t.Name));
    }

    /// <summary>Every message type of the Protocol project the serializer takes, with its manifest.</summary>
    private List<(MessageDescriptor Type, string Manifest)> Registered()
    {
        var registered = new List<(MessageDescriptor, string)>();
        foreach (var type in ProtoFill.AllMessageTypes)
        {
            try
            {
                registered.Add((type, _serializer.Manifest(type.Parser.ParseFrom(ByteString.Empty))));
            }
            catch (ArgumentException)
            {
                // not a journal or in-cluster message: refused, as it should be
            }
        }
        return registered;
    }

    [Fact]
    public void JournalSerializer_should_give_every_message_it_takes_a_short_manifest_of_its_own()
    {
        var registered = Registered();
        Assert.Superset(JournalReflection.Descriptor.MessageTypes.Select(m => m.FullName).ToHashSet(), registered.Select(r => r.Type.FullName).ToHashSet());
        Assert.Equal(registered.Count, registered.Select(r => r.Manifest).Distinct(StringComparer.Ordinal).Count());
        Assert.All(registered, r => Assert.InRange(r.Manifest.Length, 1, 3));
        // Link frames travel over gRPC, never through Akka serialization or a journal.
        Assert.DoesNotContain(registered, r => r.Type.File == LinkReflection.Descriptor);
    }

    [Fact]
    public void JournalSerializer_should_round_trip_every_message_it_takes_with_every_kind_of_field_set()
    {
        foreach (var (type, manifest) in Registered())
        {
            ProtoFill.Of(type).Sample(message =>
            {
                var back = _serializer.FromBinary(_serializer.ToBinary(message), manifest);
                Assert.IsType(message.GetType(), back);
                Assert.Equal(message, back);
            }, iter: 200, threads: 1);
        }
    }

    [Fact]
    public void JournalSerializer_should_round_trip_every_journal_event() =>
        ProtocolGen.AnyJournalEvent.Sample(message =>
        {
            var manifest = _serializer.Manifest(message);
            var bytes = _serializer.ToBinary(message);
            var back = _serializer.FromBinary(bytes, manifest);
            Assert.IsType(message.GetType(), back);
            Assert.Equal(message, back);
            // Plain protobuf on disk: any protobuf reader of journal.proto can read a journal.
            Assert.Equal(message.ToByteArray(), bytes);
        }, iter: 2000);

    [Theory]
    [MemberData(nameof(StableManifests))]
    public void JournalSerializer_should_round_trip_an_empty_event(Type type, string manifest)
    {
        var empty = (IMessage)Activator.CreateInstance(type)!;
        var bytes = _serializer.ToBinary(empty);
        Assert.Empty(bytes);
        Assert.Equal(empty, _serializer.FromBinary(bytes, manifest));
    }

    [Theory]
    [InlineData("")]
    [InlineData("zz")]
    [InlineData("D")]
    [InlineData("d ")]
    [InlineData("ActorSync.Protocol.Journal.DeltaRecorded, ActorSync.Protocol")]
    [InlineData("System.Diagnostics.Process, System.Diagnostics.Process")]
    public void JournalSerializer_should_refuse_an_unknown_manifest(string manifest)
    {
        var e = Assert.Throws<SerializationException>(() => _serializer.FromBinary([0x0a, 0x01, 0x00], manifest));
        Assert.Contains("unknown journal manifest", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<object> NotJournalEvents => new()
    {
        "a string",
        42,
        new LinkFrame { Ping = new Ping { Nonce = 1 } },
        new Hello(),
        new VersionVectorMsg(),
        new Summary(),
        new Uri("https://example.org"),
    };

    [Theory]
    [MemberData(nameof(NotJournalEvents))]
    public void JournalSerializer_should_refuse_an_object_that_is_not_a_journal_event(object notAnEvent)
    {
        Assert.Throws<ArgumentException>(() => _serializer.Manifest(notAnEvent));
        Assert.Throws<ArgumentException>(() => _serializer.ToBinary(notAnEvent));
    }

    [Fact]
    public void JournalSerializer_should_be_what_the_shipped_peer_config_binds_to_every_journal_event()
    {
        var serialization = Sys.Serialization;
        Assert.Equal(4711, _serializer.Identifier);
        ProtocolGen.AnyJournalEvent.Sample(message =>
        {
            var serializer = serialization.FindSerializerFor(message);
            Assert.IsType<JournalSerializer>(serializer);
            Assert.Equal(4711, serializer.Identifier);
            var manifest = AkkaSerialization.ManifestFor(serializer, message);
            var bytes = serialization.Serialize(message);
            Assert.Equal(message, serialization.Deserialize(bytes, serializer.Identifier, manifest));
        }, iter: 300, threads: 1);
    }
}
