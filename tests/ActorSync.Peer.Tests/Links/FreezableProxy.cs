using System.Net;
using System.Net.Sockets;

namespace ActorSync.Peer.Tests.Links;

/// <summary>
/// A TCP relay between a dialer and a listener that can be frozen: bytes stop flowing both ways
/// while every socket stays open, as with a peer whose machine hangs or a path that black-holes.
/// </summary>
internal sealed class FreezableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _frozen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<TcpClient> _sockets = [];
    private readonly Task _accepting;

    public FreezableProxy(string target)
    {
        var uri = new Uri("https://" + target);
        _target = new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public void Freeze() => _frozen.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets) foreach (var s in _sockets) s.Dispose();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(_target, _stop.Token);
                lock (_sockets) _sockets.AddRange([inbound, outbound]);
                _ = PumpAsync(inbound.GetStream(), outbound.GetStream());
                _ = PumpAsync(outbound.GetStream(), inbound.GetStream());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0 || _frozen.Task.IsCompleted) break;
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
            // Frozen: hold the sockets open and move nothing until the test ends.
            await Task.Delay(Timeout.Infinite, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Stopped, or one side went away.
        }
    }
}
