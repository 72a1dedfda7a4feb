using ActorSync.Cli.Commands;

namespace ActorSync.Cli.Tests.Support;

/// <summary>Runs `actorsync` verbs in-process with captured streams.</summary>
internal sealed class CliRun
{
    public LockedWriter Out { get; } = new();
    public LockedWriter Err { get; } = new();
    public MemoryStream Stdout { get; } = new();
    public string Stdin { get; init; } = "";
    public int ExitCode { get; private set; }

    public static async Task<CliRun> RunAsync(params string[] args)
    {
        var run = new CliRun();
        await run.ExecuteAsync(args, CancellationToken.None);
        return run;
    }

    public async Task<int> ExecuteAsync(string[] args, CancellationToken ct)
    {
        var console = new CliConsole(Out, Err, new StringReader(Stdin), () => new NonClosing(Stdout), Interactive: false);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(TestApi.Patience);
        ExitCode = await CliApp.RunAsync(args, console, bound.Token);
        return ExitCode;
    }

    /// <summary>Lets the verb dispose "stdout" while the test still reads what was written.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
    }
}
