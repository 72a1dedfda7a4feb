using System.Diagnostics;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>
/// The progress of one long upload or download, drawn through a <see cref="ProgressLine"/>: on a
/// terminal the line is redrawn a few times a second; otherwise the line only says which quarter
/// the transfer has reached, so a log gets four lines rather than one per buffer. Small transfers
/// (under <see cref="MinBytes"/>) show nothing: they are over before a line would help.
/// </summary>
internal sealed class TransferProgress(TextWriter err, bool interactive, string verb, string name, long? total)
{
    public const long MinBytes = 8L * 1024 * 1024;
    private const long UnknownStep = 256L * 1024 * 1024;
    private static readonly TimeSpan RedrawEvery = TimeSpan.FromMilliseconds(200);

    private readonly ProgressLine line = new(err, interactive);
    private readonly Stopwatch sinceDrawn = Stopwatch.StartNew();
    private readonly string label = TextTable.Clean(name);
    private bool shown;

    public void Report(long bytes)
    {
        if (!shown && bytes < MinBytes && (total is null || total < MinBytes)) return;
        if (interactive)
        {
            if (shown && sinceDrawn.Elapsed < RedrawEvery && bytes != total) return;
            sinceDrawn.Restart();
            line.Show(total is > 0 ? $"{verb} {label}: {TextTable.Size(bytes)} of {TextTable.Size(total.Value)} ({Percent(bytes)}%)" : $"{verb} {label}: {TextTable.Size(bytes)}");
        }
        else if (total is > 0)
        {
            // The same text until the next quarter: ProgressLine prints changes only.
            line.Show($"{verb} {label}: {Percent(bytes) / 25 * 25}% of {TextTable.Size(total.Value)}");
        }
        else
        {
            if (bytes < UnknownStep) return;
            line.Show($"{verb} {label}: {TextTable.Size(bytes / UnknownStep * UnknownStep)} so far");
        }
        shown = true;
    }

    public void Finish()
    {
        if (shown) line.Finish();
    }

    private long Percent(long bytes) => Math.Clamp(bytes * 100 / total!.Value, 0, 100);
}

/// <summary>A pass-through that reports the running count of bytes read or written through it.</summary>
internal sealed class ProgressStream(Stream inner, Action<long> report) : Stream
{
    private long bytes;

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => inner.Length;

    public override long Position
    {
        get => bytes;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Counted(await inner.ReadAsync(buffer, cancellationToken));

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Counted(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        Counted(buffer.Length);
    }

    private int Counted(int n)
    {
        bytes += n;
        report(bytes);
        return n;
    }

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
