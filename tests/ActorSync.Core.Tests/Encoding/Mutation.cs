using CsCheck;

namespace ActorSync.Core.Tests.Encoding;

/// <summary>The ways a valid encoding is damaged in transit or by a hostile sender.</summary>
public enum MutationKind
{
    FlipBit,
    Truncate,
    Insert,
    Delete,
    InflateLength,
    Overwrite,
    Append,
}

/// <summary>
/// One damage to a byte string, described by numbers rather than by the bytes it hits, so a
/// generator can shrink it and a failure prints a reproducible description. Positions are taken
/// modulo the input's length, so one mutation applies to any input.
/// </summary>
public sealed record Mutation(MutationKind Kind, int Position, int Amount, int Choice, byte[] Data)
{
    /// <summary>Values a hostile length or count field might claim (relative ones depend on the input).</summary>
    private static readonly ulong[] HugeValues =
        [127, 128, 255, 16_384, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, long.MaxValue, ulong.MaxValue];

    public static readonly Gen<Mutation> Any =
        Gen.Select(Gen.Enum<MutationKind>(), Gen.Int[0, int.MaxValue], Gen.Int[1, 8], Gen.Int[0, 64], Gen.Byte.Array[1, 8])
            .Select((kind, position, amount, choice, data) => new Mutation(kind, position, amount, choice, data));

    /// <summary>One to three mutations applied in turn.</summary>
    public static readonly Gen<Mutation[]> Some = Any.Array[1, 3];

    public static byte[] ApplyAll(IEnumerable<Mutation> mutations, byte[] original) =>
        mutations.Aggregate(original, (bytes, m) => m.ApplyTo(bytes));

    public byte[] ApplyTo(byte[] original)
    {
        var bytes = original.ToList();
        var at = bytes.Count == 0 ? 0 : Position % bytes.Count;
        switch (Kind)
        {
            case MutationKind.FlipBit when bytes.Count > 0:
                for (var i = 0; i < Amount; i++)
                {
                    var index = (int)(((long)at + (long)i * Choice * 8191) % bytes.Count);
                    bytes[index] ^= (byte)(1 << ((Choice + i) % 8));
                }
                break;
            case MutationKind.Truncate:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case MutationKind.Insert:
                bytes.InsertRange(at, Data);
                break;
            case MutationKind.Delete when bytes.Count > 0:
                bytes.RemoveRange(at, Math.Min(Amount, bytes.Count - at));
                break;
            case MutationKind.InflateLength when bytes.Count > 0:
                // Replace one byte with a varint (the encoding of every length and count) claiming far more than follows.
                var remaining = (ulong)(bytes.Count - at);
                ulong[] relative = [remaining, remaining + 1, remaining * 2 + 1];
                var value = Choice < relative.Length ? relative[Choice] : HugeValues[Choice % HugeValues.Length];
                bytes.RemoveAt(at);
                bytes.InsertRange(at, VarUInt(value));
                break;
            case MutationKind.Overwrite when bytes.Count > 0:
                bytes[at] = (Choice % 4) switch { 0 => 0x00, 1 => 0xFF, 2 => 0x80, _ => Data[0] };
                break;
            case MutationKind.Append:
                bytes.AddRange(Data);
                break;
            default:
                // An empty input: every mutation of nothing that needs a byte to act on becomes an append.
                bytes.AddRange(Data);
                break;
        }
        return [.. bytes];
    }

    /// <summary>The varint at <paramref name="offset"/> replaced by <paramref name="value"/>: a length or count field that lies.</summary>
    public static byte[] WithVarUIntAt(byte[] original, int offset, ulong value)
    {
        var end = offset;
        while ((original[end] & 0x80) != 0) end++;
        return [.. original.AsSpan(0, offset), .. VarUInt(value), .. original.AsSpan(end + 1)];
    }

    /// <summary>Claims for a length field at <paramref name="offset"/>: just past the end, far past it, and past every cap.</summary>
    public static IEnumerable<ulong> InflatedClaims(byte[] original, int offset)
    {
        var remaining = (ulong)(original.Length - offset);
        return [remaining + 1, remaining * 2 + 1, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, long.MaxValue, ulong.MaxValue];
    }

    private static byte[] VarUInt(ulong value)
    {
        var output = new List<byte>(10);
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
        return [.. output];
    }

    public override string ToString() => $"{Kind}@{Position} amount={Amount} choice={Choice} data={Convert.ToHexString(Data)}";
}
