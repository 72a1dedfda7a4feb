using System.Globalization;
using System.Security.Cryptography;
using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;

namespace ActorSync.Benchmarks.Support;

/// <summary>Realistically sized operations for each tool; the index makes each one distinct.</summary>
public static class SampleOps
{
    public static readonly ToolId Discussion = new("discussion");
    public static readonly ToolId Chat = new("chat");
    public static readonly ToolId Calendar = new("calendar");
    public static readonly ToolId Notepad = new("notepad");
    public static readonly ToolId Sketchpad = new("sketchpad");
    public static readonly ToolId Pictures = new("pictures");
    public static readonly ToolId Files = new("files");

    /// <summary>About 200 bytes of prose, varied by <paramref name="i"/>.</summary>
    public static string Prose(int i, int length = 200)
    {
        const string words = "the quarterly plan needs one more pass before friday so please add your notes on budget staffing and the vendor review ";
        var text = $"#{i}: " + string.Concat(Enumerable.Repeat(words, length / words.Length + 1));
        return text[..length];
    }

    public static CreateEntry DiscussionPost(int i) =>
        new(EntryFields.Of(("title", $"Plan review {i}"), ("text", Prose(i))));

    public static CreateEntry ChatMessage(int i) =>
        new(EntryFields.Of(("text", Prose(i, 60))));

    public static CreateEntry CalendarEvent(int i)
    {
        var start = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero).AddHours(i);
        return new(EntryFields.Of(
            ("title", $"Standup {i}"),
            ("start", start.ToString("O", CultureInfo.InvariantCulture)),
            ("end", start.AddMinutes(30).ToString("O", CultureInfo.InvariantCulture)),
            ("location", "Room 4")));
    }

    public static CreateEntry Note(int i) =>
        new(EntryFields.Of(("title", $"Note {i}"), ("text", Prose(i, 500))));

    /// <summary>A stroke of 32 points.</summary>
    public static CreateEntry Stroke(int i)
    {
        var points = string.Join(' ', Enumerable.Range(0, 32).Select(p =>
            string.Create(CultureInfo.InvariantCulture, $"{(i + p) % 800}.5,{(i * 3 + p * 7) % 600}.25")));
        return new(EntryFields.Of(("points", points), ("color", "#3366ff"), ("width", "3")));
    }

    public static CreateEntry Picture(int i) =>
        new(EntryFields.Of(
            ("name", $"IMG_{i:D4}.jpg"),
            ("contentHash", Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)))),
            ("size", "2483125"),
            ("caption", "Whiteboard after the planning session")));

    /// <summary>A new 150 KB file in three chunks.</summary>
    public static PutFile File(int i)
    {
        var sizes = new[] { 65_536, 65_536, 18_928 };
        var chunks = sizes.Select((s, c) => new FileChunk(SHA256.HashData(BitConverter.GetBytes(i * 4 + c)), s)).ToList();
        return new PutFile($"docs/report-{i}.txt", sizes.Sum(), SHA256.HashData(BitConverter.GetBytes(-i - 1)), chunks);
    }

    public static EditEntry Edit(DeltaId entry, int i) =>
        new(entry, EntryFields.Of(("text", Prose(i + 1))));
}
