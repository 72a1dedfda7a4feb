using System.Buffers.Binary;
using System.Security.Cryptography;
using ActorSync.Core.Identity;

namespace ActorSync.Relay.Gateway;

/// <summary>
/// Challenges and bearer tokens of the HTTP gateway, both stateless: MACed with a key this node
/// draws at start-up and never writes down. A challenge is good for a minute, a token for an hour;
/// both are good on the node that issued them only (a device whose node went away signs in again).
/// Holding no table means a flood of sign-ins costs the node no memory.
/// </summary>
public sealed class GatewayTokens : IDisposable
{
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);

    private const int MacSize = 32;
    private const int ChallengeSize = 8 + 16 + MacSize;
    private const int TokenSize = Fingerprint.Size + 8 + MacSize;
    private const byte ChallengeKind = 1;
    private const byte TokenKind = 2;

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _clock;

    public GatewayTokens(TimeProvider clock) => _clock = clock;

    public byte[] NewChallenge()
    {
        var challenge = new byte[ChallengeSize];
        BinaryPrimitives.WriteInt64BigEndian(challenge, _clock.GetUtcNow().ToUnixTimeMilliseconds());
        RandomNumberGenerator.Fill(challenge.AsSpan(8, 16));
        Mac(ChallengeKind, challenge.AsSpan(0, 24), challenge.AsSpan(24));
        return challenge;
    }

    /// <summary>True for a challenge this node issued less than a minute ago.</summary>
    public bool IsFreshChallenge(ReadOnlySpan<byte> challenge)
    {
        if (challenge.Length != ChallengeSize || !MacMatches(ChallengeKind, challenge[..24], challenge[24..])) return false;
        var age = _clock.GetUtcNow().ToUnixTimeMilliseconds() - BinaryPrimitives.ReadInt64BigEndian(challenge);
        return age >= -5_000 && age <= (long)ChallengeLifetime.TotalMilliseconds;
    }

    public string NewToken(DeviceId device)
    {
        var token = new byte[TokenSize];
        device.Value.ToBytes().CopyTo(token, 0);
        BinaryPrimitives.WriteInt64BigEndian(token.AsSpan(Fingerprint.Size), (_clock.GetUtcNow() + TokenLifetime).ToUnixTimeMilliseconds());
        Mac(TokenKind, token.AsSpan(0, Fingerprint.Size + 8), token.AsSpan(Fingerprint.Size + 8));
        return Base64Url(token);
    }

    /// <summary>The device a valid, unexpired token of this node was issued to; null for anything else.</summary>
    public DeviceId? DeviceOf(string? token)
    {
        if (token is null || token.Length > 128) return null;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(token.Replace('-', '+').Replace('_', '/') + new string('=', (4 - token.Length % 4) % 4));
        }
        catch (FormatException)
        {
            return null;
        }
        if (bytes.Length != TokenSize) return null;
        var signed = bytes.AsSpan(0, Fingerprint.Size + 8);
        if (!MacMatches(TokenKind, signed, bytes.AsSpan(Fingerprint.Size + 8))) return null;
        if (BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(Fingerprint.Size)) < _clock.GetUtcNow().ToUnixTimeMilliseconds()) return null;
        return new DeviceId(Fingerprint.FromBytes(bytes.AsSpan(0, Fingerprint.Size)));
    }

    private void Mac(byte kind, ReadOnlySpan<byte> data, Span<byte> mac)
    {
        Span<byte> input = stackalloc byte[data.Length + 1];
        input[0] = kind;
        data.CopyTo(input[1..]);
        HMACSHA256.HashData(_key, input, mac);
    }

    private bool MacMatches(byte kind, ReadOnlySpan<byte> data, ReadOnlySpan<byte> mac)
    {
        Span<byte> expected = stackalloc byte[MacSize];
        Mac(kind, data, expected);
        return CryptographicOperations.FixedTimeEquals(expected, mac);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
