using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Lifecycle;

/// <summary>
/// Binary form of a <see cref="DeletionReceipt"/>, signed by the device that deleted. Decoding only
/// parses; <see cref="Verify"/> checks the signature against the device key on the card the members
/// knew the removed account by, so a receipt cannot be forged for someone else's device.
/// </summary>
public static class DeletionReceiptCodec
{
    private const byte FormatVersion = 1;
    private const string Context = "actorsync/deletion-receipt/v1";
    public const int MaxSize = 512;

    public static byte[] Encode(DeletionReceipt receipt, DeviceIdentity device)
    {
        if (device.Id != receipt.Device) throw new ArgumentException("a receipt is signed by the device it names", nameof(device));
        var w = Body(receipt);
        w.Raw(device.Signing.Sign(Signed(w.WrittenSpan)));
        return w.ToArray();
    }

    /// <summary>Parses; <see cref="WireFormatException"/> on anything malformed. The signature is not checked here.</summary>
    public static DeletionReceipt Decode(ReadOnlySpan<byte> bytes) => Parse(bytes, out _, out _);

    /// <summary>True when the receipt is well formed and signed by <paramref name="card"/>'s device that it names.</summary>
    public static bool Verify(ReadOnlySpan<byte> bytes, ContactCard card, out DeletionReceipt? receipt)
    {
        receipt = null;
        try
        {
            var parsed = Parse(bytes, out var signedLength, out var signature);
            if (parsed.Account != card.AccountId) return false;
            var key = card.FindDevice(parsed.Device)?.PublicKey;
            if (key is null || !Signing.Verify(key, Signed(bytes[..signedLength]), signature)) return false;
            receipt = parsed;
            return true;
        }
        catch (WireFormatException)
        {
            return false;
        }
    }

    private static WireWriter Body(DeletionReceipt receipt)
    {
        var w = new WireWriter(160);
        w.Byte(FormatVersion);
        Span<byte> ws = stackalloc byte[WorkspaceId.Size];
        receipt.Workspace.WriteTo(ws);
        w.Raw(ws);
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        receipt.Account.Value.WriteTo(raw);
        w.Raw(raw);
        receipt.Device.Value.WriteTo(raw);
        w.Raw(raw);
        receipt.Removal.Write(w);
        w.VarInt(receipt.DeletedAtMillis);
        return w;
    }

    // Domain separation: these bytes must never verify as a delta, an invitation or a card.
    private static byte[] Signed(ReadOnlySpan<byte> body)
    {
        var context = System.Text.Encoding.ASCII.GetBytes(Context);
        var all = new byte[context.Length + body.Length];
        context.CopyTo(all, 0);
        body.CopyTo(all.AsSpan(context.Length));
        return all;
    }

    private static DeletionReceipt Parse(ReadOnlySpan<byte> bytes, out int signedLength, out byte[] signature)
    {
        if (bytes.Length > MaxSize) throw new WireFormatException("deletion receipt: too large");
        var r = new WireReader(bytes);
        if (r.Byte("receipt version") != FormatVersion) throw new WireFormatException("deletion receipt: unknown version");
        var workspace = WorkspaceId.FromBytes(r.Raw(WorkspaceId.Size, "workspace"));
        var account = new AccountId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "account")));
        var device = new DeviceId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "device")));
        var removal = DeltaId.Read(ref r);
        var at = r.VarInt("deleted at");
        signedLength = r.Position;
        signature = r.Raw(Signing.SignatureSize, "signature").ToArray();
        r.ExpectEnd("deletion receipt");
        return new DeletionReceipt(workspace, account, device, removal, at);
    }
}
