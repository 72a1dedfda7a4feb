using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;

namespace ActorSync.Core.Identity;

/// <summary>
/// What people exchange to find each other: account name, public keys, devices and relay
/// addresses, signed by the account's own key. Parsed strictly: any extra byte, bad key or bad
/// signature rejects the whole card.
/// </summary>
public sealed class ContactCard
{
    public const string TextPrefix = "actorsync-card:";
    private const byte FormatVersion = 1;
    public const int MaxNameBytes = 128;
    public const int MaxDevices = 16;
    public const int MaxRelays = 8;
    public const int MaxRelayBytes = 256;
    public const int MaxEncodedSize = 4096;
    public const int TlsPinSize = 32;

    private ContactCard(string name, byte[] signingKey, byte[] agreementKey, IReadOnlyList<CardDevice> devices,
        IReadOnlyList<string> relays, long issuedAtMillis, byte[] encoded)
    {
        Name = name;
        SigningPublicKey = signingKey;
        AgreementPublicKey = agreementKey;
        Devices = devices;
        Relays = relays;
        IssuedAtMillis = issuedAtMillis;
        Encoded = encoded;
        AccountId = AccountId.FromSigningKey(signingKey);
    }

    public AccountId AccountId { get; }
    public string Name { get; }
    public byte[] SigningPublicKey { get; }
    public byte[] AgreementPublicKey { get; }
    public IReadOnlyList<CardDevice> Devices { get; }
    public IReadOnlyList<string> Relays { get; }
    public long IssuedAtMillis { get; }

    /// <summary>The exact signed bytes; stored and forwarded as they are so the signature stays checkable.</summary>
    public byte[] Encoded { get; }

    public CardDevice? FindDevice(DeviceId id) => Devices.FirstOrDefault(d => d.Id == id);

    public static ContactCard Create(AccountIdentity account, IEnumerable<byte[]> devicePublicKeys, IEnumerable<string> relays, long issuedAtMillis) =>
        Create(account, devicePublicKeys.Select(k => new CardDevice(DeviceId.FromSigningKey(k), k, null)), relays, issuedAtMillis);

    /// <summary>A card whose devices may name the SHA-256 of their TLS certificate's public key, which is what peers pin on direct links.</summary>
    public static ContactCard Create(AccountIdentity account, IEnumerable<CardDevice> devices, IEnumerable<string> relays, long issuedAtMillis)
    {
        var w = new WireWriter(512);
        w.Byte(FormatVersion);
        w.String(account.Name);
        w.Raw(account.Signing.PublicKeyBytes);
        w.Raw(account.Agreement.PublicKeyBytes);
        var deviceList = devices.ToList();
        var relayList = relays.ToList();
        w.VarUInt((ulong)deviceList.Count);
        foreach (var d in deviceList)
        {
            w.Raw(d.PublicKey);
            w.Bytes(d.TlsPin ?? []);
        }
        w.VarUInt((ulong)relayList.Count);
        foreach (var r in relayList) w.String(r);
        w.VarInt(issuedAtMillis);
        w.Raw(account.Signing.Sign(w.WrittenSpan));
        // Re-parse what we made: one code path defines what a valid card is.
        return Decode(w.WrittenSpan);
    }

    public static ContactCard Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxEncodedSize) throw new WireFormatException("contact card: too large");
        var r = new WireReader(bytes);
        var version = r.Byte("contact card version");
        if (version != FormatVersion) throw new WireFormatException($"contact card: unknown version {version}");
        var name = r.String(MaxNameBytes, "contact card name");
        if (string.IsNullOrWhiteSpace(name) || name.Any(char.IsControl)) throw new WireFormatException("contact card: bad name");
        var signingKey = r.Raw(Signing.PublicKeySize, "contact card signing key").ToArray();
        var agreementKey = r.Raw(AgreementKeyPair.PublicKeySize, "contact card agreement key").ToArray();
        var deviceCount = r.Count(MaxDevices, "contact card devices");
        if (deviceCount == 0) throw new WireFormatException("contact card: no devices");
        var devices = new List<CardDevice>(deviceCount);
        for (var i = 0; i < deviceCount; i++)
        {
            var key = r.Raw(Signing.PublicKeySize, "contact card device key").ToArray();
            if (Signing.TryImportPublicKey(key) is null) throw new WireFormatException("contact card: bad device key");
            var pin = r.Bytes(TlsPinSize, "contact card TLS pin").ToArray();
            if (pin.Length is not (0 or TlsPinSize)) throw new WireFormatException("contact card: a TLS pin is 32 bytes");
            var device = new CardDevice(DeviceId.FromSigningKey(key), key, pin.Length == 0 ? null : pin);
            if (devices.Any(d => d.Id == device.Id)) throw new WireFormatException("contact card: duplicate device");
            devices.Add(device);
        }
        var relayCount = r.Count(MaxRelays, "contact card relays");
        var relays = new List<string>(relayCount);
        for (var i = 0; i < relayCount; i++) relays.Add(r.String(MaxRelayBytes, "contact card relay"));
        var issuedAt = r.VarInt("contact card issued-at");
        var signedLength = r.Position;
        var signature = r.Raw(Signing.SignatureSize, "contact card signature");
        r.ExpectEnd("contact card");
        if (!Signing.Verify(signingKey, bytes[..signedLength], signature))
            throw new WireFormatException("contact card: bad signature");
        return new ContactCard(name, signingKey, agreementKey, devices, relays, issuedAt, bytes.ToArray());
    }

    public string ToText() => TextPrefix + Convert.ToBase64String(Encoded).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static ContactCard Parse(string text)
    {
        text = text.Trim();
        if (!text.StartsWith(TextPrefix, StringComparison.Ordinal)) throw new WireFormatException("contact card: missing prefix " + TextPrefix);
        var b64 = text[TextPrefix.Length..].Replace('-', '+').Replace('_', '/');
        if (b64.Length > MaxEncodedSize * 2) throw new WireFormatException("contact card: too large");
        b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
        byte[] raw;
        try { raw = Convert.FromBase64String(b64); }
        catch (FormatException e) { throw new WireFormatException("contact card: not base64url", e); }
        return Decode(raw);
    }
}

/// <summary>
/// One device listed on a contact card: its Ed25519 key (its identity) and, for devices that accept
/// direct links, the SHA-256 of its TLS certificate's public key (SPKI), signed into the card by the
/// account so a link can be pinned to the device and never to an address.
/// </summary>
public sealed record CardDevice(DeviceId Id, byte[] PublicKey, byte[]? TlsPin = null);
