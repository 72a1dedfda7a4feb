using ActorSync.Core.Causality;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Tools;
using Xunit;

namespace ActorSync.Core.Tests.Tools;

/// <summary>
/// The entry index and an entry's field set against the sorted dictionaries they replaced: same
/// lookups, same iteration order, over random insertion orders (appends, out-of-order and repeated
/// ids, replacements); and the image reader that fills them takes only what the writer writes.
/// </summary>
public sealed class EntryIndexSpecs
{
    private static readonly AccountId Creator = new(Fingerprint.FromBytes(new byte[Fingerprint.Size]));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void EntryIndex_should_find_and_iterate_like_a_sorted_dictionary(int seed)
    {
        var random = new Random(seed);
        var devices = Enumerable.Range(0, 1 + random.Next(6)).Select(_ => new DeviceId(Fingerprint.FromBytes(Bytes(random)))).ToArray();
        var next = devices.ToDictionary(d => d, _ => 1UL);
        var index = new EntryIndex();
        var reference = new SortedDictionary<DeltaId, Entry>();
        for (var i = 0; i < 2000; i++)
        {
            var device = devices[random.Next(devices.Length)];
            // Mostly in sequence (as a device's deltas apply), sometimes behind it or a repeat of a known id.
            var seq = random.Next(10) switch
            {
                0 => 1 + (ulong)random.Next((int)Math.Min(next[device], 500)),
                1 when reference.Count > 0 => reference.Keys.ElementAt(random.Next(reference.Count)).Seq,
                _ => next[device] += 1 + (ulong)random.Next(3),
            };
            var entry = new Entry(new DeltaId(device, seq), Creator, new HlcTimestamp((ulong)i));
            index.Set(entry);
            reference[entry.Id] = entry;
        }

        Assert.Equal(reference.Count, index.Count);
        Assert.Equal(reference.Values, index.Values);
        foreach (var (id, entry) in reference)
        {
            Assert.True(index.Contains(id));
            Assert.True(index.TryGetValue(id, out var found));
            Assert.Same(entry, found);
        }
        Assert.False(index.TryGetValue(new DeltaId(devices[0], 1_000_000), out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FieldSet_should_find_and_iterate_in_ordinal_order_like_a_sorted_dictionary(int seed)
    {
        var random = new Random(seed);
        string[] names = ["text", "title", "Title", "a", "z", "é", "start", "end", "where", "", "text2"];
        var fields = new FieldSet();
        var reference = new SortedDictionary<string, FieldValue>(StringComparer.Ordinal);
        for (var i = 0; i < 200; i++)
        {
            var name = names[random.Next(names.Length)];
            var value = new FieldValue("v" + i, new HlcTimestamp((ulong)i), default);
            fields[name] = value;
            reference[name] = value;

            Assert.Equal(reference.Count, fields.Count);
            Assert.Equal(reference, fields);
            Assert.Equal(reference.Values, fields.Values);
        }
        foreach (var name in names) Assert.Equal(reference.TryGetValue(name, out var v) ? v : default, fields.TryGetValue(name, out var f) ? f : default);
        Assert.False(fields.TryGetValue("missing", out _));
    }

    [Fact]
    public void Entry_tool_image_should_be_read_only_in_the_order_it_is_written_and_only_for_deltas_of_the_state()
    {
        var device = new DeviceId(Fingerprint.FromBytes(Bytes(new Random(7))));
        var (first, second, unknown) = (new DeltaId(device, 3), new DeltaId(device, 9), new DeltaId(device, 99));
        bool Applied(DeltaId id) => id.Device == device && id.Seq <= 10;
        EntryTool Read(byte[] image)
        {
            var r = new WireReader(image);
            var tool = EntryTool.ReadImage(ref r, Applied);
            r.ExpectEnd("entry tool");
            return tool;
        }

        var read = Read(Image((first, ["text", "title"]), (second, ["text"])));
        Assert.Equal([first, second], read.All.Select(e => e.Id));
        Assert.Equal("v-title", read.Find(first)!["title"]);

        // Out of order, repeated, or not created by a delta of the state: a crafted image, refused.
        Assert.Throws<WireFormatException>(() => Read(Image((second, ["text"]), (first, ["text"]))));
        Assert.Throws<WireFormatException>(() => Read(Image((first, ["text"]), (first, ["text"]))));
        Assert.Throws<WireFormatException>(() => Read(Image((first, ["text"]), (unknown, ["text"]))));
        Assert.Throws<WireFormatException>(() => Read(Image((first, ["title", "text"]))));
        Assert.Throws<WireFormatException>(() => Read(Image((first, ["text", "text"]))));
    }

    /// <summary>An entry tool's image as EntryTool.WriteImage lays it out, with entries and fields in the order given.</summary>
    private static byte[] Image(params (DeltaId Id, string[] Fields)[] entries)
    {
        var w = new WireWriter();
        w.VarUInt((ulong)entries.Length);
        foreach (var (id, fields) in entries)
        {
            id.Write(w);
            w.Raw(new byte[Fingerprint.Size]);
            w.UInt64Fixed(1);
            w.Bool(false);
            w.VarUInt((ulong)fields.Length);
            foreach (var name in fields)
            {
                w.String(name);
                w.String("v-" + name);
                w.UInt64Fixed(1);
                id.Write(w);
            }
        }
        return w.ToArray();
    }

    private static byte[] Bytes(Random random)
    {
        var bytes = new byte[Fingerprint.Size];
        random.NextBytes(bytes);
        return bytes;
    }
}
