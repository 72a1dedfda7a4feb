using System.Security.Cryptography;
using ActorSync.Core.Tools;
using BenchmarkDotNet.Attributes;

namespace ActorSync.Benchmarks;

/// <summary>
/// What an upload costs per byte at its author before any crypto of ours: cutting 16 MiB of random
/// content into content-defined chunks, beside one SHA-256 pass over the same bytes for scale.
/// </summary>
public class ChunkerBenchmarks
{
    private const int Size = 16 * 1024 * 1024;
    private byte[] _content = null!;

    [GlobalSetup]
    public void Setup() => _content = RandomNumberGenerator.GetBytes(Size);

    [Benchmark(Baseline = true)]
    public int Cut()
    {
        var chunks = 0;
        for (var offset = 0; offset < _content.Length; chunks++) offset += ContentChunker.Cut(_content.AsSpan(offset));
        return chunks;
    }

    [Benchmark]
    public byte[] Sha256() => SHA256.HashData(_content);
}
