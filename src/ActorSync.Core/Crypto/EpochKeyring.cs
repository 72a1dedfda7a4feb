using System.Security.Cryptography;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Crypto;

/// <summary>
/// The symmetric keys of a workspace, one per epoch, and the per-device AES-GCM instances derived
/// from them. Each author device encrypts under its own HKDF subkey of the epoch key, so nonces
/// only need to be unique per device, which its sequence number guarantees.
/// </summary>
public sealed class EpochKeyring : IDisposable
{
    public const int KeySize = 32;
    private const int MaxEpochs = 4096;
    private readonly Dictionary<EpochId, byte[]> _keys = [];
    private readonly Dictionary<(EpochId, DeviceId), AesGcm> _ciphers = [];
    private readonly WorkspaceId _workspace;

    public EpochKeyring(WorkspaceId workspace) => _workspace = workspace;

    public int Count => _keys.Count;
    public bool Has(EpochId epoch) => _keys.ContainsKey(epoch);
    public IEnumerable<EpochId> Epochs => _keys.Keys;

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeySize);

    public void Add(EpochId epoch, byte[] key)
    {
        if (key.Length != KeySize) throw new ArgumentException("epoch keys are 32 bytes", nameof(key));
        _keys.TryAdd(epoch, (byte[])key.Clone());
    }

    /// <summary>
    /// Key rotations (and uninvites, which rotate) carry nothing but keys already wrapped for each
    /// recipient, and a member that missed an epoch must still be able to read the rotation that
    /// hands it that epoch's key. So they are sealed under a subkey of the workspace id instead of
    /// an epoch key: authenticated and signed like any delta, confidential only through the wrapping.
    /// </summary>
    internal static readonly EpochId MembershipEpoch = new(0, 0);

    internal AesGcm? CipherFor(EpochId epoch, DeviceId device)
    {
        if (_ciphers.TryGetValue((epoch, device), out var cipher)) return cipher;
        byte[]? key;
        if (epoch == MembershipEpoch)
        {
            key = new byte[KeySize];
            _workspace.WriteTo(key);
        }
        else if (!_keys.TryGetValue(epoch, out key)) return null;
        Span<byte> subkey = stackalloc byte[KeySize];
        Span<byte> salt = stackalloc byte[WorkspaceId.Size];
        _workspace.WriteTo(salt);
        var info = new byte[16 + Fingerprint.Size];
        "actorsync/delta/"u8.CopyTo(info);
        device.Value.WriteTo(info.AsSpan(16));
        HKDF.DeriveKey(HashAlgorithmName.SHA256, key, subkey, salt, info);
        cipher = new AesGcm(subkey, 16);
        CryptographicOperations.ZeroMemory(subkey);
        _ciphers[(epoch, device)] = cipher;
        return cipher;
    }

    /// <summary>The whole keyring as bytes, to be wrapped for a member (invitation, rotation).</summary>
    public byte[] Export()
    {
        var w = new WireWriter(16 + _keys.Count * 48);
        w.VarUInt((ulong)_keys.Count);
        foreach (var (epoch, key) in _keys.OrderBy(k => k.Key.High).ThenBy(k => k.Key.Low))
        {
            epoch.Write(w);
            w.Raw(key);
        }
        return w.ToArray();
    }

    public void Import(ReadOnlySpan<byte> exported)
    {
        var r = new WireReader(exported);
        var count = r.Count(MaxEpochs, "keyring");
        for (var i = 0; i < count; i++)
        {
            var epoch = EpochId.Read(ref r);
            Add(epoch, r.Raw(KeySize, "epoch key").ToArray());
        }
        r.ExpectEnd("keyring");
    }

    public void Dispose()
    {
        foreach (var c in _ciphers.Values) c.Dispose();
        _ciphers.Clear();
        foreach (var k in _keys.Values) CryptographicOperations.ZeroMemory(k);
        _keys.Clear();
    }
}
