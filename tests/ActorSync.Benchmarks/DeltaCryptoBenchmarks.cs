using ActorSync.Benchmarks.Support;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Operations;
using BenchmarkDotNet.Attributes;
using NSec.Cryptography;

namespace ActorSync.Benchmarks;

/// <summary>
/// One discussion post (about 200 bytes of text) through the envelope: sealing on the author's
/// side, and decode, signature check and decryption on a receiver's side. The last four are the
/// parts of those two paths, to show where the time goes.
/// </summary>
[MemoryDiagnoser]
public class DeltaCryptoBenchmarks
{
    private BenchWorkspace _ws = null!;
    private DeltaHeader _header = null!;
    private DeltaOp _op = null!;
    private EpochKeyring _authorKeyring = null!;
    private SigningKeyPair _authorDeviceKey = null!;
    private byte[] _bytes = null!;
    private SealedDelta _sealed = null!;
    private PublicKey _authorPublicKey = null!;
    private EpochKeyring _receiverKeyring = null!;
    private readonly byte[] _signature = new byte[Signing.SignatureSize];

    [GlobalSetup]
    public void Setup()
    {
        _ws = new BenchWorkspace();
        // A real delta authored by bob gives a header with real dependencies, epoch and time.
        _sealed = _ws.Author(_ws.BobReplica, SampleOps.Discussion, SampleOps.DiscussionPost(1));
        _header = _sealed.Header;
        _op = SampleOps.DiscussionPost(1);
        _authorKeyring = _ws.BobReplica.Keyring;
        _authorDeviceKey = _ws.Bob.Device.Signing;
        _bytes = _sealed.Bytes;
        _authorPublicKey = Signing.TryImportPublicKey(_ws.Bob.Device.Signing.PublicKeyBytes)
                           ?? throw new InvalidOperationException("bad device key");
        _receiverKeyring = _ws.CatReplica.Keyring;
        // Warm the receiver's per-device cipher cache, as a running replica would have it.
        if (Open() is not CreateEntry) throw new InvalidOperationException("setup delta does not open");
    }

    [GlobalCleanup]
    public void Cleanup() => _ws.Dispose();

    [Benchmark(Description = "Seal (encode + AES-GCM + Ed25519 sign)")]
    public SealedDelta Seal() => DeltaCrypto.Seal(_header, _op, _authorKeyring, _authorDeviceKey);

    [Benchmark(Description = "Open (decode + verify + decrypt)")]
    public DeltaOp Open()
    {
        var delta = DeltaCodec.Decode(_bytes);
        if (!DeltaCrypto.VerifySignature(delta, _authorPublicKey)) throw new InvalidOperationException("bad signature");
        if (DeltaCrypto.TryDecrypt(delta, _receiverKeyring, out var op) != OpenFailure.None) throw new InvalidOperationException("does not open");
        return op!;
    }

    [Benchmark(Description = "part: OpCodec.Encode")]
    public byte[] EncodeOp() => OpCodec.Encode(_op);

    [Benchmark(Description = "part: Ed25519 sign")]
    public byte[] Sign()
    {
        _authorDeviceKey.Sign(_bytes.AsSpan(0, _bytes.Length - Signing.SignatureSize), _signature);
        return _signature;
    }

    [Benchmark(Description = "part: DeltaCodec.Decode")]
    public SealedDelta Decode() => DeltaCodec.Decode(_bytes);

    [Benchmark(Description = "part: VerifySignature")]
    public bool Verify() => DeltaCrypto.VerifySignature(_sealed, _authorPublicKey);

    [Benchmark(Description = "part: TryDecrypt (AES-GCM + OpCodec.Decode)")]
    public OpenFailure Decrypt() => DeltaCrypto.TryDecrypt(_sealed, _receiverKeyring, out _);
}
