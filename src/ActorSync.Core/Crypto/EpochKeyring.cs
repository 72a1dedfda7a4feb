using System.Security.Cryptography;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Crypto;

/// <summary>
/// The symmetric keys of a workspace, one per epoch, and the per-device AES-GCM instances derived
/// from them. Each author device encrypts under its own HKDF subkey of the epoch key, so nonces
/// only need to be unique per device, which its sequence number guarantees.
/// </summary>
public sealed partial class EpochKeyring : IDisposable
{
    public const int KeySize = 32;
    private const int MaxEpochs = 4096;
    private readonly Dictionary<EpochId, byte[]> _keys = [];
    private readonly Dictionary<EpochId, byte[]> _commitments = [];
    private readonly Dictionary<(EpochId, DeviceId), AesGcm> _ciphers = [];
    private readonly WorkspaceId _workspace;

    public EpochKeyring(WorkspaceId workspace) => _workspace = workspace;

    public int Count => _keys.Count;
    public bool Has(EpochId epoch) => _keys.ContainsKey(epoch);
    public IEnumerable<EpochId> Epochs => _keys.Keys;

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeySize);

    /// <summary>
    /// Adds a key. Where the epoch's commitment is known, only the committed key is taken (and it
    /// replaces any other); where it is not known yet, the first key is kept until the commitment
    /// arrives and settles it (<see cref="RecordCommitment"/>).
    /// </summary>
    public bool Add(EpochId epoch, byte[] key)
    {
        if (key.Length != KeySize) throw new ArgumentException("epoch keys are 32 bytes", nameof(key));
        if (_commitments.TryGetValue(epoch, out var commitment))
        {
            if (!Matches(epoch, key, commitment)) return false;
            if (_keys.TryGetValue(epoch, out var held) && held.AsSpan().SequenceEqual(key)) return true;
            Forget(epoch);
        }
        else if (_keys.ContainsKey(epoch))
        {
            return false;
        }
        _keys[epoch] = (byte[])key.Clone();
        return true;
    }

    /// <summary>Notes the commitment published by the delta that opened an epoch; a held key that does not match it is dropped.</summary>
    public void RecordCommitment(EpochId epoch, byte[] commitment)
    {
        if (!_commitments.TryAdd(epoch, (byte[])commitment.Clone())) return;
        if (_keys.TryGetValue(epoch, out var key) && !Matches(epoch, key, commitment)) Forget(epoch);
    }

    public bool HasCommitment(EpochId epoch) => _commitments.ContainsKey(epoch);

    /// <summary>A copy of one epoch's key, for committing to it when this device opens the epoch.</summary>
    internal byte[]? KeyOf(EpochId epoch) => _keys.TryGetValue(epoch, out var key) ? (byte[])key.Clone() : null;

    private bool Matches(EpochId epoch, byte[] key, byte[] commitment) =>
        CryptographicOperations.FixedTimeEquals(KeyGrant.Commit(_workspace, epoch, key), commitment);

    private void Forget(EpochId epoch)
    {
        if (_keys.Remove(epoch, out var old)) CryptographicOperations.ZeroMemory(old);
        foreach (var device in _ciphers.Keys.Where(k => k.Item1 == epoch).ToList())
        {
            _ciphers[device].Dispose();
            _ciphers.Remove(device);
        }
    }

    internal AesGcm? CipherFor(EpochId epoch, DeviceId device)
    {
        if (_ciphers.TryGetValue((epoch, device), out var cipher)) return cipher;
        if (!_keys.TryGetValue(epoch, out var key)) return null;
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

    /// <summary>
    /// Imports an exported keyring, all or nothing. With <paramref name="committedOnly"/>, only keys
    /// of epochs whose opening delta this replica has seen (and whose commitment they match) are
    /// taken: a key grant can then never plant a key for an epoch that is not open yet.
    /// </summary>
    public int Import(ReadOnlySpan<byte> exported, bool committedOnly = false)
    {
        var r = new WireReader(exported);
        var count = r.Count(MaxEpochs, "keyring");
        var parsed = new List<(EpochId, byte[])>(count);
        for (var i = 0; i < count; i++) parsed.Add((EpochId.Read(ref r), r.Raw(KeySize, "epoch key").ToArray()));
        r.ExpectEnd("keyring");
        var added = 0;
        foreach (var (epoch, key) in parsed)
        {
            if (committedOnly && !_commitments.ContainsKey(epoch)) continue;
            if (Add(epoch, key)) added++;
        }
        return added;
    }

    public void Dispose()
    {
        foreach (var c in _ciphers.Values) c.Dispose();
        _ciphers.Clear();
        foreach (var k in _keys.Values) CryptographicOperations.ZeroMemory(k);
        _keys.Clear();
    }
}
