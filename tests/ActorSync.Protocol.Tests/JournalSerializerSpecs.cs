using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using ActorSync.Protocol.Journal;
using ActorSync.Protocol.Wire;
using CsCheck;
using Google.Protobuf;
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
    };

    [Theory]
    [MemberData(nameof(StableManifests))]
    public void JournalSerializer_should_name_each_event_with_its_stable_manifest(Type type, string manifest)
    {
        var sample = (IMessage)Activator.CreateInstance(type)!;
        Assert.Equal(manifest, _serializer.Manifest(sample));
    }

    [Fact]
    public void JournalSerializer_should_have_a_distinct_manifest_for_every_message_of_journal_proto()
    {
        var types = JournalReflection.Descriptor.MessageTypes.Select(m => m.ClrType).ToList();
        Assert.Equal(9, types.Count);
        var manifests = types.Select(t => _serializer.Manifest(Activator.CreateInstance(t)!)).ToList();
        Assert.Equal(manifests.Count, manifests.Distinct(StringComparer.Ordinal).Count());
        Assert.All(manifests, m => Assert.InRange(m.Length, 1, 3));
        // Every journal type has a generator below, so the round-trip property covers all of them.
        Assert.Equal(types.OrderBy(t => t.Name), ProtocolGen.JournalEvents.Keys.OrderBy(t => t.Name));
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
