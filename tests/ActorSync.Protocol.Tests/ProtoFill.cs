using CsCheck;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ActorSync.Protocol.Tests;

/// <summary>
/// Arbitrary instances of any protobuf message, field by field from its descriptor, so a round-trip
/// property covers message types added after these specs were written.
/// </summary>
internal static class ProtoFill
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-_./:éü€中\n\t";

    /// <summary>Every message type generated from the Protocol project's .proto files.</summary>
    public static IReadOnlyList<MessageDescriptor> AllMessageTypes { get; } =
        typeof(JournalSerializer).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Reflection", StringComparison.Ordinal) && t.GetProperty("Descriptor")?.PropertyType == typeof(FileDescriptor))
            .SelectMany(t => ((FileDescriptor)t.GetProperty("Descriptor")!.GetValue(null)!).MessageTypes)
            .ToList();

    public static Gen<IMessage> Of(MessageDescriptor descriptor) => Gen.Int.Select(seed => Fill(descriptor, new Random(seed), depth: 0));

    public static IMessage Fill(MessageDescriptor descriptor, Random random, int depth)
    {
        var message = descriptor.Parser.ParseFrom(ByteString.Empty);
        foreach (var field in descriptor.Fields.InDeclarationOrder())
        {
            if (field.IsMap) continue;
            // Some fields left unset, as real senders do.
            if (random.Next(5) == 0) continue;
            if (field.IsRepeated)
            {
                var list = (System.Collections.IList)field.Accessor.GetValue(message);
                for (var i = random.Next(4); i > 0; i--)
                    if (Value(field, random, depth) is { } v) list.Add(v);
            }
            else if (Value(field, random, depth) is { } v)
            {
                // One member of a oneof at a time: the last one set wins, as on the wire.
                field.Accessor.SetValue(message, v);
            }
        }
        return message;
    }

    private static object? Value(FieldDescriptor field, Random random, int depth) => field.FieldType switch
    {
        FieldType.Bytes => ByteString.CopyFrom(Bytes(random)),
        FieldType.String => new string(Enumerable.Range(0, random.Next(30)).Select(_ => Alphabet[random.Next(Alphabet.Length)]).ToArray()),
        FieldType.Bool => random.Next(2) == 1,
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => random.Next(int.MinValue, int.MaxValue),
        FieldType.UInt32 or FieldType.Fixed32 => (uint)random.NextInt64(0, uint.MaxValue),
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => random.NextInt64(long.MinValue, long.MaxValue),
        FieldType.UInt64 or FieldType.Fixed64 => (ulong)random.NextInt64(long.MinValue, long.MaxValue),
        FieldType.Double => random.NextDouble() * 1e9 - 5e8,
        FieldType.Float => (float)(random.NextDouble() * 1e6),
        FieldType.Enum => field.EnumType.Values[random.Next(field.EnumType.Values.Count)].Number,
        FieldType.Message when depth < 3 => Fill(field.MessageType, random, depth + 1),
        _ => null,
    };

    private static byte[] Bytes(Random random)
    {
        var bytes = new byte[random.Next(5) == 0 ? random.Next(1000, 5000) : random.Next(0, 40)];
        random.NextBytes(bytes);
        return bytes;
    }
}
