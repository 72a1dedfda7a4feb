using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Encoding;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Images;

/// <summary>
/// Replica.FromImage parses its bytes as untrusted: a damaged image (bit flips, cuts, insertions,
/// inflated counts) either gives a replica or throws <see cref="WireFormatException"/>, never
/// another exception; so does a crafted one.
/// </summary>
public class ImageRobustnessSpecs : IClassFixture<ImageRobustnessSpecs.Samples>
{
    public sealed class Samples : IDisposable
    {
        public Samples()
        {
            Net = new ImageNetwork(3, members: 4);
            Net.Run(80);
            Net.Heal();
            Node = Net.NodeOf("m0");
            Local = Node.Replica.WriteImage(ImageLog.Local);
            Node.Replica.Prune(_ => true);
            PrunedLocal = Node.Replica.WriteImage(ImageLog.Local);
            Transfer = Node.Replica.WriteImage(ImageLog.Transfer);
            Keys = Node.Replica.Keyring.Export();
        }

        internal ImageNetwork Net { get; }
        internal ImageNetwork.Node Node { get; }
        public byte[] Local { get; }
        public byte[] PrunedLocal { get; }
        public byte[] Transfer { get; }
        public byte[] Keys { get; }

        public void Dispose() => Net.Dispose();
    }

    private readonly Samples _samples;

    public ImageRobustnessSpecs(Samples samples) => _samples = samples;

    /// <summary>True when the image was taken, false on <see cref="WireFormatException"/>; fails on anything else.</summary>
    private bool Accepts(byte[] image, string what)
    {
        var keyring = new EpochKeyring(_samples.Node.Replica.Id);
        keyring.Import(_samples.Keys);
        try
        {
            using var replica = Replica.FromImage(image, _samples.Node.Member.Account, _samples.Node.Member.Device, keyring, _samples.Node.Chunks.Copy());
            // Whatever was taken can be looked at without throwing.
            _ = replica.State.StateHash();
            _ = replica.Seen;
            return true;
        }
        catch (WireFormatException)
        {
            keyring.Dispose();
            return false;
        }
        catch (Exception e)
        {
            keyring.Dispose();
            Assert.Fail($"{what}: FromImage threw {e.GetType().Name} instead of WireFormatException: {e.Message}\n{e.StackTrace}");
            return false;
        }
    }

    public static TheoryData<string> Kinds => ["local", "pruned", "transfer"];

    private byte[] Image(string kind) => kind switch
    {
        "local" => _samples.Local,
        "pruned" => _samples.PrunedLocal,
        _ => _samples.Transfer,
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Undamaged_images_should_be_taken(string kind) => Assert.True(Accepts(Image(kind), kind));

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Bit_flips_should_give_a_replica_or_a_WireFormatException(string kind)
    {
        var image = Image(kind);
        var random = new Random(kind.Length * 1000 + 1);
        for (var i = 0; i < 300; i++)
        {
            var flipped = (byte[])image.Clone();
            var flips = 1 + random.Next(3);
            var where = new List<int>();
            for (var f = 0; f < flips; f++)
            {
                // Half the flips in the first kilobyte, where the counts and closures are.
                var at = random.Next(2) == 0 ? random.Next(Math.Min(1024, image.Length)) : random.Next(image.Length);
                flipped[at] ^= (byte)(1 << random.Next(8));
                where.Add(at);
            }
            Accepts(flipped, $"{kind}: flips at {string.Join(",", where)}");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Truncations_should_be_a_WireFormatException(string kind)
    {
        var image = Image(kind);
        var random = new Random(kind.Length * 1000 + 2);
        var cuts = Enumerable.Range(0, 64).Concat(Enumerable.Range(0, 150).Select(_ => random.Next(image.Length))).Append(image.Length - 1).Distinct();
        foreach (var length in cuts) Assert.False(Accepts(image[..length], $"{kind}: cut to {length}"), $"{kind}: cut to {length} was taken");
        Assert.False(Accepts([.. image, 0], $"{kind}: a byte appended"));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Other_mutations_should_give_a_replica_or_a_WireFormatException(string kind)
    {
        var image = Image(kind);
        var random = new Random(kind.Length * 1000 + 3);
        var kinds = Enum.GetValues<MutationKind>();
        for (var i = 0; i < 300; i++)
        {
            var data = new byte[1 + random.Next(8)];
            random.NextBytes(data);
            var mutation = new Mutation(kinds[random.Next(kinds.Length)], random.Next(2) == 0 ? random.Next(1024) : random.Next(), 1 + random.Next(8),
                random.Next(65), data);
            Accepts(mutation.ApplyTo(image), $"{kind}: {mutation}");
        }
    }

    /// <summary>
    /// A key-opening administrative event (rotation, removal, creation) whose key grant is absent:
    /// no valid delta can be one, and folding it into the membership must not crash the reader.
    /// </summary>
    [Theory]
    [InlineData(OpKind.RotateKey)]
    [InlineData(OpKind.RemoveMember)]
    public void An_image_with_an_epoch_opening_admin_event_without_its_key_grant_should_be_a_WireFormatException(OpKind kind)
    {
        using var ann = new TestMember("ann");
        var workspace = WorkspaceId.New();
        DeltaOp op = kind == OpKind.RotateKey ? new RotateKey() : new RemoveMember(ann.Id);
        var w = new WireWriter();
        w.Byte(1);
        Span<byte> ws = stackalloc byte[WorkspaceId.Size];
        workspace.WriteTo(ws);
        w.Raw(ws);
        w.VarUInt(0); // no devices (no closures)
        w.VarUInt(1); // one admin event
        new DeltaId(ann.Device.Id, 1).Write(w);
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        ann.Id.Value.WriteTo(raw);
        w.Raw(raw);
        w.UInt64Fixed(HlcTimestamp.From(1_700_000_000_000, 0).Packed);
        w.String(ToolId.Workspace.Value);
        VersionVector.Empty.Write(w);
        EpochId.OpenedBy(new DeltaId(ann.Device.Id, 1)).Write(w);
        w.Bool(false); // no key grant
        w.Bytes(OpCodec.Encode(op));
        w.VarUInt(0); // entry tools
        w.VarUInt(0); // file tools
        w.VarUInt(0); // commitments
        w.VarUInt(0); // rejected
        w.VarUInt(0); // heads
        w.UInt64Fixed(0); // clock
        VersionVector.Empty.Write(w); // pruned max
        w.VarUInt(0); // device keys
        w.Byte((byte)ImageLog.Local);
        w.VarUInt(1); // next seq
        w.VarUInt(0); // log
        w.VarUInt(0); // adoptable
        w.VarUInt(0); // parked
        var image = w.ToArray();
        using var keyring = new EpochKeyring(workspace);
        try
        {
            using var replica = Replica.FromImage(image, ann.Account, ann.Device, keyring);
            Assert.Fail("an admin event without its key grant was taken");
        }
        catch (WireFormatException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"FromImage threw {e.GetType().Name} instead of WireFormatException: {e.Message}");
        }
    }
}
