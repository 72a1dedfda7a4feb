using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;

namespace ActorSync.Core.Replication;

/// <summary>
/// Binary form of an <see cref="Invitation"/>, signed by the inviting device so it can travel
/// through links and relay mailboxes and still be checked: the signature must verify under a
/// device listed on the inviter's (self-signed) card.
/// </summary>
public static class InvitationCodec
{
    private const byte FormatVersion = 1;
    public const int MaxSize = 96 * 1024;

    public static byte[] Encode(Invitation invitation, DeviceIdentity inviterDevice)
    {
        var w = new WireWriter(1024);
        w.Byte(FormatVersion);
        Span<byte> ws = stackalloc byte[WorkspaceId.Size];
        invitation.Workspace.WriteTo(ws);
        w.Raw(ws);
        w.String(invitation.WorkspaceName);
        w.Bytes(invitation.Inviter.Encoded);
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        invitation.Invitee.Value.WriteTo(raw);
        w.Raw(raw);
        w.Byte((byte)invitation.Role);
        invitation.InviteDelta.Write(w);
        w.Bytes(invitation.WrappedKeyring);
        inviterDevice.Id.Value.WriteTo(raw);
        w.Raw(raw);
        w.Raw(inviterDevice.Signing.Sign(w.WrittenSpan));
        return w.ToArray();
    }

    /// <summary>Parses and verifies; <see cref="WireFormatException"/> on anything malformed or unsigned.</summary>
    public static Invitation Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxSize) throw new WireFormatException("invitation: too large");
        var r = new WireReader(bytes);
        if (r.Byte("invitation version") != FormatVersion) throw new WireFormatException("invitation: unknown version");
        var workspace = WorkspaceId.FromBytes(r.Raw(WorkspaceId.Size, "workspace"));
        var name = r.String(256, "workspace name");
        var inviter = ContactCard.Decode(r.Bytes(ContactCard.MaxEncodedSize, "inviter card"));
        var invitee = new AccountId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "invitee")));
        var role = (Role)r.Byte("role");
        if (!Enum.IsDefined(role)) throw new WireFormatException("invitation: unknown role");
        var delta = DeltaId.Read(ref r);
        var wrapped = r.Bytes(KeyWrap.MaxSecretSize + KeyWrap.Overhead, "wrapped keyring").ToArray();
        var device = new DeviceId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "inviter device")));
        var signed = r.Position;
        var signature = r.Raw(Signing.SignatureSize, "signature");
        r.ExpectEnd("invitation");
        var key = inviter.FindDevice(device)?.PublicKey ?? throw new WireFormatException("invitation: signed by a device not on the inviter's card");
        if (delta.Device != device) throw new WireFormatException("invitation: the invite delta is not the signing device's");
        if (!Signing.Verify(key, bytes[..signed], signature)) throw new WireFormatException("invitation: bad signature");
        return new Invitation(workspace, name, inviter, invitee, role, delta, wrapped);
    }
}
