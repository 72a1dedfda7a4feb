using System.Threading.Channels;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Wire;
using Grpc.Core;

namespace ActorSync.Peer.Links;

/// <summary>
/// One device link over one gRPC <c>Connect</c> stream, the same class whether we dialed or were
/// dialed. A bounded queue feeds a single writer task (two overlapping gRPC writes throw), a
/// reader task fills a small inbound queue, and any exception on either side is "link down":
/// <see cref="Closed"/> completes with the first reason and everything stops.
/// </summary>
public sealed class GrpcLinkConnection : ILinkConnection
{
    public const string ClosedLocallyReason = "closed by this device";
    public const string ClosedRemotelyReason = "the remote device closed the link";

    private static readonly TimeSpan ReaderFirstGrace = TimeSpan.FromMilliseconds(500);

    private readonly IAsyncStreamReader<LinkFrame> _reader;
    private readonly IAsyncStreamWriter<LinkFrame> _writer;
    private readonly Func<Task>? _completeWrites;
    private readonly Action<GrpcLinkConnection, string> _onClosed;
    private readonly TimeSpan _closeGrace;
    private readonly Channel<LinkFrame> _sendQueue;
    private readonly Channel<LinkFrame> _received;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _writerTask = Task.CompletedTask;
    private Task _readerTask = Task.CompletedTask;
    private volatile bool _closingLocally;

    internal GrpcLinkConnection(
        DeviceId remote,
        bool inbound,
        string remoteAddress,
        IAsyncStreamReader<LinkFrame> reader,
        IAsyncStreamWriter<LinkFrame> writer,
        Func<Task>? completeWrites,
        Action<GrpcLinkConnection, string> onClosed,
        GrpcLinkOptions options)
    {
        Remote = remote;
        Inbound = inbound;
        RemoteAddress = remoteAddress;
        _reader = reader;
        _writer = writer;
        _completeWrites = completeWrites;
        _onClosed = onClosed;
        _closeGrace = options.CloseGrace;
        _sendQueue = Channel.CreateBounded<LinkFrame>(new BoundedChannelOptions(options.SendQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _received = Channel.CreateBounded<LinkFrame>(new BoundedChannelOptions(options.ReceiveQueueCapacity)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public DeviceId Remote { get; }

    public bool Inbound { get; }

    /// <summary>The address the link runs to or came from; for logs only, never for identity.</summary>
    public string RemoteAddress { get; }

    public Task<string> Closed => _closed.Task;

    /// <summary>True once closed by either side on purpose, rather than by a failure.</summary>
    public bool ClosedCleanly => _closed.Task.IsCompletedSuccessfully && _closed.Task.Result is ClosedLocallyReason or ClosedRemotelyReason;

    /// <summary>Frames queued but not yet handed to gRPC.</summary>
    public int PendingSends => _sendQueue.Reader.Count;

    internal void Start()
    {
        _writerTask = Task.Run(WriteLoopAsync);
        _readerTask = Task.Run(ReadLoopAsync);
    }

    public bool TrySend(LinkFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return _sendQueue.Writer.TryWrite(frame);
    }

    /// <summary>
    /// Frames in arrival order until the link closes (then <see cref="Closed"/> says why). Meant for
    /// one consumer; while nobody reads, the remote side is held back by flow control.
    /// </summary>
    public IAsyncEnumerable<LinkFrame> ReadAllAsync(CancellationToken ct) => _received.Reader.ReadAllAsync(ct);

    /// <summary>Ends the link at once with <paramref name="reason"/>; frames still queued are dropped.</summary>
    public void Abort(string reason) => Close(reason);

    /// <summary>Sends what is queued (within the close grace), tells the other side, then releases the stream.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_closed.Task.IsCompleted)
        {
            _closingLocally = true;
            _sendQueue.Writer.TryComplete();
            await WaitQuietly(_writerTask, _closeGrace).ConfigureAwait(false);
            // The dialer has just ended its request stream; the other side answers by ending the
            // call, and waiting for that lets it see a clean close rather than a reset.
            if (!Inbound) await WaitQuietly(_readerTask, _closeGrace).ConfigureAwait(false);
            Close(ClosedLocallyReason);
        }
        await StoppedAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Completes when both pumps have exited: after this nothing touches the gRPC streams.</summary>
    internal Task StoppedAsync() => Task.WhenAll(_writerTask, _readerTask);

    internal void Close(string reason)
    {
        if (!_closed.TrySetResult(reason)) return;
        _sendQueue.Writer.TryComplete();
        _received.Writer.TryComplete();
        _stop.Cancel();
        _onClosed(this, reason);
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            var token = _stop.Token;
            while (await _sendQueue.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (_sendQueue.Reader.TryRead(out var frame))
                {
                    await _writer.WriteAsync(frame, token).ConfigureAwait(false);
                }
            }
            if (_completeWrites is not null) await _completeWrites().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // any failure of the stream is "link down", whatever its type
        catch (Exception e)
#pragma warning restore CA1031
        {
            // A write torn by the other side ending the call says only "cancelled"; the reader is
            // about to get that side's status with its reason, so give it a moment to speak first.
            if (IsCancellation(e) && !_stop.IsCancellationRequested) await WaitQuietly(_readerTask, ReaderFirstGrace).ConfigureAwait(false);
            Close(Describe(e, "sending"));
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            var token = _stop.Token;
            while (await _reader.MoveNext(token).ConfigureAwait(false))
            {
                await _received.Writer.WriteAsync(_reader.Current, token).ConfigureAwait(false);
            }
            Close(_closingLocally ? ClosedLocallyReason : ClosedRemotelyReason);
        }
#pragma warning disable CA1031 // any failure of the stream is "link down", whatever its type
        catch (Exception e)
#pragma warning restore CA1031
        {
            Close(_closingLocally && e is OperationCanceledException ? ClosedLocallyReason : Describe(e, "receiving"));
        }
    }

    /// <summary>A reason safe to log: status and exception text, which name sizes and addresses but never frame contents.</summary>
    private static string Describe(Exception e, string during) => e switch
    {
        RpcException { StatusCode: StatusCode.Aborted } r => $"the remote device ended the link: {r.Status.Detail}",
        RpcException { StatusCode: StatusCode.ResourceExhausted } r => $"frame too large while {during} ({r.Status.Detail})",
        RpcException { StatusCode: StatusCode.Cancelled } => $"link cancelled while {during}",
        RpcException r => $"{during} failed: {r.StatusCode}: {r.Status.Detail}",
        OperationCanceledException => $"link cancelled while {during}",
        _ => $"{during} failed: {e.GetType().Name}: {e.Message}",
    };

    private static bool IsCancellation(Exception e) =>
        e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled };

    private static async Task WaitQuietly(Task task, TimeSpan limit)
    {
        try
        {
            await task.WaitAsync(limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The caller closes forcibly next.
        }
    }
}
