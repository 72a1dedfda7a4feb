using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using Google.Protobuf;

namespace ActorSync.Peer.Actors.Links;

/// <summary>
/// The last rung to a relay: its HTTP/1.1 gateway, for networks whose proxies and firewalls break
/// HTTP/2 and long-lived streams. Plain requests carry what the gRPC stream carries: enqueues go in
/// batches (POST enqueue), the mailbox is drained by long polls (GET mailbox, then POST delivered
/// for what came), presence is a lease renewed by POST and a lookup by GET. The relay's key is
/// pinned as on every route; the device signs in by signing the relay's challenge.
/// </summary>
internal sealed class HttpRelayConnection : RelayConnection
{
    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PresenceRenewal = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PresenceLookup = TimeSpan.FromSeconds(3);
    private const int MaxBatchBytes = 4 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly CancellationTokenSource _closed = new();
    private string? _address;
    // Ids of the last polled batch the relay client has not acknowledged yet: the next poll waits
    // for them (polling again would fetch the same envelopes, still in the mailbox).
    private readonly HashSet<ByteString> _unacked = [];
    private TaskCompletionSource _acked = Done();

    private static TaskCompletionSource Done()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }
    private IReadOnlyList<ByteString> _watched = [];

    private HttpRelayConnection(RelayAddress address, HttpClient http) : base(address) => _http = http;

    public static async Task<RelayConnection> OpenAsync(RelayAddress address, ContactCard card, DeviceIdentity device)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                    presented is not null && DeviceCertificate.PinsEqual(DeviceCertificate.PinOf(presented), address.Pin),
            },
        };
        var http = new HttpClient(handler)
        {
            BaseAddress = address.BaseUri,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = PollWait + TimeSpan.FromSeconds(15),
        };
        var connection = new HttpRelayConnection(address, http);
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var challengeResponse = await http.PostAsync(GatewayContract.Challenge, null, deadline.Token).ConfigureAwait(false);
            await Ensure(challengeResponse, "challenge", deadline.Token).ConfigureAwait(false);
            var challenge = await challengeResponse.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
            var login = new GatewayLogin
            {
                Card = ByteString.CopyFrom(card.Encoded),
                Device = device.Id.ToWire(),
                Challenge = ByteString.CopyFrom(challenge),
                Signature = ByteString.CopyFrom(device.Signing.Sign(GatewayContract.LoginMessage(address.Pin, challenge))),
            };
            var session = await connection.CallAsync(GatewayContract.Login, login, GatewaySession.Parser, deadline.Token).ConfigureAwait(false);
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.Token);
            return connection;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or InvalidProtocolBufferException)
        {
            connection.Close();
            throw new LinkException($"the relay gateway refused or did not answer: {e.Message}", e);
        }
        catch
        {
            connection.Close();
            throw;
        }
    }

    public override async Task<string> RunAsync(Action<RelayFrame> inbound)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
        var loops = new[]
        {
            Guard("send", () => SendLoop(inbound, stop.Token)),
            Guard("poll", () => PollLoop(inbound, stop.Token)),
            Guard("presence", () => PresenceLoop(inbound, stop.Token)),
        };
        var first = await Task.WhenAny(loops).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        return await first.ConfigureAwait(false);
    }

    private static Task<string> Guard(string what, Func<Task> loop) => Task.Run(async () =>
    {
        try
        {
            await loop().ConfigureAwait(false);
            return "closed";
        }
        catch (OperationCanceledException)
        {
            return "closed";
        }
        catch (Exception e) when (e is HttpRequestException or LinkException or InvalidProtocolBufferException or IOException)
        {
            return $"{what} failed: {e.Message}";
        }
    });

    /// <summary>Frames for the relay: enqueues in batches, the rest one request each.</summary>
    private async Task SendLoop(Action<RelayFrame> inbound, CancellationToken ct)
    {
        var reader = Outbound.Reader;
        var batch = new EnqueueBatch();
        while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            var bytes = 0;
            while (batch.Enqueues.Count < GatewayContract.MaxEnqueuesPerBatch && bytes < MaxBatchBytes && reader.TryRead(out var frame))
            {
                switch (frame.BodyCase)
                {
                    case RelayFrame.BodyOneofCase.Enqueue:
                        batch.Enqueues.Add(frame.Enqueue);
                        bytes += frame.Enqueue.Payload.Length;
                        break;
                    case RelayFrame.BodyOneofCase.PresencePublish:
                        _address = frame.PresencePublish.Address;
                        await PostAsync(GatewayContract.Presence, frame.PresencePublish, ct).ConfigureAwait(false);
                        break;
                    case RelayFrame.BodyOneofCase.PresenceSubscribe:
                        _watched = frame.PresenceSubscribe.Devices.ToList();
                        break;
                    case RelayFrame.BodyOneofCase.PendingQuery:
                        inbound(new RelayFrame
                        {
                            PendingCounts = await CallAsync(GatewayContract.Pending, frame.PendingQuery, PendingCounts.Parser, ct).ConfigureAwait(false),
                        });
                        break;
                    case RelayFrame.BodyOneofCase.Delivered:
                        await PostAsync(GatewayContract.Delivered, frame.Delivered, ct).ConfigureAwait(false);
                        lock (_unacked)
                        {
                            foreach (var id in frame.Delivered.MessageIds) _unacked.Remove(id);
                            if (_unacked.Count == 0) _acked.TrySetResult();
                        }
                        break;
                }
            }
            if (batch.Enqueues.Count == 0) continue;
            var accepted = await CallAsync(GatewayContract.Enqueue, batch, AcceptedBatch.Parser, ct).ConfigureAwait(false);
            foreach (var a in accepted.Accepted) inbound(new RelayFrame { Accepted = a });
            batch = new EnqueueBatch();
        }
    }

    /// <summary>Long polls of the mailbox; what came is handed on, and the next poll waits until the relay client acknowledged it (it does once it is durable here).</summary>
    private async Task PollLoop(Action<RelayFrame> inbound, CancellationToken ct)
    {
        var route = $"{GatewayContract.Mailbox}?wait={(int)PollWait.TotalSeconds}";
        while (!ct.IsCancellationRequested)
        {
            using var response = await _http.GetAsync(route, ct).ConfigureAwait(false);
            await Ensure(response, "mailbox", ct).ConfigureAwait(false);
            var batch = EnvelopeBatch.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
            if (batch.Envelopes.Count == 0) continue;
            Task acked;
            lock (_unacked)
            {
                _acked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                foreach (var envelope in batch.Envelopes) _unacked.Add(envelope.MessageId);
                acked = _acked.Task;
            }
            foreach (var envelope in batch.Envelopes) inbound(new RelayFrame { Envelope = envelope });
            // Bounded: an envelope this device never acknowledges (it could not make it durable) is fetched again.
            await Task.WhenAny(acked, Task.Delay(TimeSpan.FromSeconds(30), ct)).ConfigureAwait(false);
            lock (_unacked) _unacked.Clear();
        }
    }

    /// <summary>Keeps this device's presence lease alive and looks up the devices it watches (the gRPC route is told; this one asks).</summary>
    private async Task PresenceLoop(Action<RelayFrame> inbound, CancellationToken ct)
    {
        var renewed = DateTime.MinValue;
        while (!ct.IsCancellationRequested)
        {
            if (_address is { } address && DateTime.UtcNow - renewed >= PresenceRenewal)
            {
                await PostAsync(GatewayContract.Presence, new PresencePublish { Address = address }, ct).ConfigureAwait(false);
                renewed = DateTime.UtcNow;
            }
            foreach (var chunk in _watched.Chunk(200))
            {
                var query = string.Join("&", chunk.Select(d => "device=" + Convert.ToHexString(d.Span)));
                using var response = await _http.GetAsync($"{GatewayContract.Presence}?{query}", ct).ConfigureAwait(false);
                await Ensure(response, "presence", ct).ConfigureAwait(false);
                var list = PresenceList.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
                foreach (var notice in list.Notices) inbound(new RelayFrame { Presence = notice });
            }
            await Task.Delay(PresenceLookup, ct).ConfigureAwait(false);
        }
    }

    private async Task PostAsync(string route, IMessage body, CancellationToken ct)
    {
        using var content = Body(body);
        using var response = await _http.PostAsync(route, content, ct).ConfigureAwait(false);
        await Ensure(response, route, ct).ConfigureAwait(false);
    }

    private async Task<T> CallAsync<T>(string route, IMessage body, MessageParser<T> parser, CancellationToken ct) where T : IMessage<T>
    {
        using var content = Body(body);
        using var response = await _http.PostAsync(route, content, ct).ConfigureAwait(false);
        await Ensure(response, route, ct).ConfigureAwait(false);
        return parser.ParseFrom(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
    }

    private static ByteArrayContent Body(IMessage message)
    {
        var content = new ByteArrayContent(message.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue(GatewayContract.ContentType);
        return content;
    }

    /// <summary>A refusal ends this connection with the gateway's one-line reason (a 401 means: sign in again).</summary>
    private static async Task Ensure(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var reason = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (reason.Length > 200) reason = reason[..200];
        throw new LinkException($"{what}: {(int)response.StatusCode} {reason.Trim()}");
    }

    public override void Close()
    {
        Outbound.Writer.TryComplete();
        _closed.Cancel();
        _http.Dispose();
    }
}
