using System.Buffers;
using System.Runtime.CompilerServices;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Tools;

/// <summary>
/// Content-defined chunking (FastCDC: a Gear rolling hash with normalised cut masks). A cut falls
/// where the hash of the last 64 bytes matches a mask, so boundaries follow the content rather
/// than offsets: an insertion moves the boundaries only around it, and the chunks before and after
/// keep their hashes. That is what makes a changed file cost only its changed chunks, since versions
/// refer to chunks by SHA-256 and a chunk the workspace already holds is never authored again.
/// The gear table comes from a constant seed, so every machine and every version cuts the same way:
/// changing it (or the sizes) would make every file look new once.
/// </summary>
public static class ContentChunker
{
    /// <summary>No cut before this many bytes (the bytes before it are not even hashed).</summary>
    public const int MinSize = 16 * 1024;

    /// <summary>The size the masks aim at.</summary>
    public const int AverageSize = 64 * 1024;

    /// <summary>A chunk is cut here whatever the content; well under <see cref="StoreChunk.MaxSize"/>.</summary>
    public const int MaxSize = 256 * 1024;

    // Normalised chunking (level 2): a harder mask (18 bits) before the average size and an easier
    // one (14 bits) after it, so sizes cluster around 64 KiB. The top bits of a Gear hash depend on
    // the last 64 bytes, the low bits only on the last few, hence masks over the top bits.
    private const ulong MaskHard = ((1UL << 18) - 1) << (64 - 18);
    private const ulong MaskEasy = ((1UL << 14) - 1) << (64 - 14);

    private static readonly ulong[] Gear = BuildGear(0x6163746f7273796eUL); // "actorsyn"

    /// <summary>
    /// The length of the first chunk of <paramref name="data"/>. When fewer than
    /// <see cref="MaxSize"/> bytes are given and more may follow, the answer is only final if it is
    /// less than data.Length (a cut was found); callers streaming a file keep at least MaxSize bytes
    /// buffered, or pass the true end of the file.
    /// </summary>
    public static int Cut(ReadOnlySpan<byte> data)
    {
        if (data.Length <= MinSize) return data.Length;
        var end = Math.Min(data.Length, MaxSize);
        var normal = Math.Min(end, AverageSize);
        var gear = Gear;
        ulong hash = 0;
        var i = MinSize;
        for (; i < normal; i++)
        {
            hash = (hash << 1) + gear[data[i]];
            if ((hash & MaskHard) == 0) return i + 1;
        }
        for (; i < end; i++)
        {
            hash = (hash << 1) + gear[data[i]];
            if ((hash & MaskEasy) == 0) return i + 1;
        }
        return end;
    }

    /// <summary>Every chunk of a whole buffer, as (offset, length).</summary>
    public static IEnumerable<(int Offset, int Length)> Split(byte[] data)
    {
        for (var offset = 0; offset < data.Length;)
        {
            var length = Cut(data.AsSpan(offset));
            yield return (offset, length);
            offset += length;
        }
    }

    /// <summary>
    /// Reads <paramref name="source"/> to its end and yields its chunks as they are cut, holding at
    /// most a few chunks' worth of the stream at a time (never the whole of it).
    /// </summary>
    public static async IAsyncEnumerable<byte[]> ReadChunksAsync(Stream source, [EnumeratorCancellation] CancellationToken ct = default)
    {
        // Pooled: a fresh 1 MiB buffer per upload is a large-object allocation each time, which a
        // stream of small files turns into gen-2 collections.
        var buffer = ArrayPool<byte>.Shared.Rent(4 * MaxSize);
        try
        {
            await foreach (var chunk in ReadChunksAsync(source, buffer, ct).ConfigureAwait(false)) yield return chunk;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async IAsyncEnumerable<byte[]> ReadChunksAsync(Stream source, byte[] buffer, [EnumeratorCancellation] CancellationToken ct)
    {
        int start = 0, filled = 0;
        var ended = false;
        while (true)
        {
            // Keep at least MaxSize bytes ahead of the cut point unless the stream has ended, so
            // every cut is the one Cut would make over the whole file.
            if (!ended && filled - start < MaxSize)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                (filled, start) = (filled - start, 0);
                while (!ended && filled < buffer.Length)
                {
                    var n = await source.ReadAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false);
                    if (n == 0) ended = true;
                    filled += n;
                }
            }
            if (filled == start) yield break;
            var length = Cut(buffer.AsSpan(start, filled - start));
            yield return buffer.AsSpan(start, length).ToArray();
            start += length;
        }
    }

    /// <summary>SplitMix64 from a fixed seed: a deterministic table, the same in every process.</summary>
    private static ulong[] BuildGear(ulong seed)
    {
        var table = new ulong[256];
        var state = seed;
        for (var i = 0; i < table.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            table[i] = z ^ (z >> 31);
        }
        return table;
    }
}
