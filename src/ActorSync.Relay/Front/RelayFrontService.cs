using System.Threading.Channels;
using Akka.Actor;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using Google.Protobuf;
using Grpc.Core;
using Status = Grpc.Core.Status;

namespace ActorSync.Relay.Front;

/// <summary>Limits of the device front end, from config/relay.hocon.</summary>
public sealed record RelayFrontSettings(int MaxFrameBytes, int MaxRecipients, int SessionQueue, TimeSpan AskTimeout);

/// <summary>
/// The gRPC device front end of a relay node. A device proves who it is with its TLS client
/// certificate and its signed contact card (the certificate's key must be the pin the card lists
/// for that device); it may then enqueue for any devices and drain only its own mailbox. The relay
/// handles payloads as opaque bytes: sealed deltas inside link frames, never plaintext.
/// </summary>
public sealed class RelayFrontService : RelayFront.RelayFrontBase
{
    private readonly ActorSystem _system;
    private readonly IActorRef _mailboxes;
    private readonly IActorRef _presence;
    private readonly MailboxDesk _desk;
    private readonly RelayFrontSettings _settings;

    public RelayFrontService(ActorSystem system, IActorRef mailboxes, IActorRef presence, MailboxDesk desk)
    {
        _system = system;
        _mailboxes = mailboxes;
        _presence = presence;
        _desk = desk;
        _settings = desk.Settings;
    }

    /// <summary>Envelopes durably accepted (all recipients) by this node since it started, on either route.</summary>
    public long Accepted => _desk.Accepted;

    public override async Task Open(IAsyncStreamReader<RelayFrame> requestStream, IServerStreamWriter<RelayFrame> responseStream,
        ServerCallContext context)
    {
        var device = await Authenticate(requestStream, context).ConfigureAwait(false);
        using var end = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var outbound = Channel.CreateBounded<RelayFrame>(new BoundedChannelOptions(_settings.SessionQueue) { SingleReader = true });
        var writer = WriteAll(outbound.Reader, responseStream, end.Token);
        var session = _system.ActorOf(RelaySession.Props(outbound.Writer, end));
        var recipient = device.ToWire();
        var published = false;
        try
        {
            _mailboxes.Tell(new MailboxAttach { Recipient = recipient, Session = session.Path.ToString() }, session);
            outbound.Writer.TryWrite(new RelayFrame { Welcome = new Welcome() });
            while (await requestStream.MoveNext(end.Token).ConfigureAwait(false))
            {
                var frame = requestStream.Current;
                switch (frame.BodyCase)
                {
                    case RelayFrame.BodyOneofCase.Enqueue:
                        _ = Store(device, frame.Enqueue, outbound.Writer);
                        break;
                    case RelayFrame.BodyOneofCase.PresencePublish:
                        var address = frame.PresencePublish.Address;
                        if (address.Length > 256) throw new RpcException(new Status(StatusCode.InvalidArgument, "address too long"));
                        published = true;
                        _presence.Tell(new Presence.PresenceHub.Local(new PresenceNotice { Device = recipient, Address = address, Online = true }));
                        break;
                    case RelayFrame.BodyOneofCase.PresenceSubscribe:
                        if (frame.PresenceSubscribe.Devices.Count > 10_000) throw new RpcException(new Status(StatusCode.InvalidArgument, "too many devices"));
                        _presence.Tell(new Presence.PresenceHub.Subscribe(session,
                            frame.PresenceSubscribe.Devices.Select(d => Convert.ToHexString(d.Span)).ToList()));
                        break;
                    case RelayFrame.BodyOneofCase.Delivered:
                        if (frame.Delivered.MessageIds.Count > MailboxDesk.MaxIdsPerRequest) throw new RpcException(new Status(StatusCode.InvalidArgument, "too many ids"));
                        _desk.Delivered(device, frame.Delivered.MessageIds);
                        break;
                    case RelayFrame.BodyOneofCase.PendingQuery:
                        _ = Pending(device, frame.PendingQuery, outbound.Writer);
                        break;
                    default:
                        outbound.Writer.TryWrite(Refusal($"unexpected {frame.BodyCase} frame"));
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (end.IsCancellationRequested)
        {
            // the device left, or read too slowly and its session was ended
        }
        catch (IOException)
        {
            // the connection broke
        }
        finally
        {
            if (published) _presence.Tell(new Presence.PresenceHub.Local(new PresenceNotice { Device = recipient, Online = false }));
            _presence.Tell(new Presence.PresenceHub.Unsubscribe(session));
            _mailboxes.Tell(new MailboxDetach { Recipient = recipient }, session);
            _system.Stop(session);
            outbound.Writer.TryComplete();
            await end.CancelAsync().ConfigureAwait(false);
            try { await writer.ConfigureAwait(false); } catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException) { }
        }
    }

    private async Task<DeviceId> Authenticate(IAsyncStreamReader<RelayFrame> requests, ServerCallContext context)
    {
        var certificate = context.GetHttpContext().Connection.ClientCertificate
                          ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "a client certificate is required"));
        if (!await requests.MoveNext(context.CancellationToken).ConfigureAwait(false) || requests.Current.BodyCase != RelayFrame.BodyOneofCase.Hello)
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the first frame must be a hello with the device's card"));
        var hello = requests.Current.Hello;
        try
        {
            var card = ContactCard.Decode(hello.Card.Span);
            var device = hello.Device.ToDeviceId();
            var listed = card.FindDevice(device) ?? throw new WireFormatException("the device is not on the card");
            if (listed.TlsPin is null || !DeviceCertificate.PinsEqual(listed.TlsPin, DeviceCertificate.PinOf(certificate)))
                throw new RpcException(new Status(StatusCode.PermissionDenied, "the TLS key is not the one the card pins for this device"));
            return device;
        }
        catch (WireFormatException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "bad hello: " + e.Message));
        }
    }

    private async Task Store(DeviceId sender, Enqueue enqueue, ChannelWriter<RelayFrame> outbound)
    {
        var accepted = await _desk.StoreAsync(sender, enqueue).ConfigureAwait(false);
        outbound.TryWrite(new RelayFrame { Accepted = accepted });
    }

    private async Task Pending(DeviceId sender, PendingQuery query, ChannelWriter<RelayFrame> outbound)
    {
        try
        {
            outbound.TryWrite(new RelayFrame { PendingCounts = await _desk.PendingAsync(sender, query).ConfigureAwait(false) });
        }
        catch (WireFormatException e)
        {
            outbound.TryWrite(Refusal("bad pending query: " + e.Message));
        }
    }

    private static RelayFrame Refusal(string reason) => new() { Refusal = new RelayRefusal { Reason = reason } };

    /// <summary>Appends to the response without flushing it to the connection.</summary>
    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    private static readonly WriteOptions Flushed = new();

    /// <summary>
    /// The stream's one writer. A write that another frame already waits behind is only buffered,
    /// and the last of a burst flushes: a burst of answers costs one flush (an HTTP/2 frame, a TLS
    /// record and a send) instead of one per answer, and nothing waits for a later frame to go out.
    /// </summary>
    private static async Task WriteAll(ChannelReader<RelayFrame> frames, IServerStreamWriter<RelayFrame> stream, CancellationToken ct)
    {
        while (await frames.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            while (frames.TryRead(out var frame))
            {
                stream.WriteOptions = frames.TryPeek(out _) ? Buffered : Flushed;
                await stream.WriteAsync(frame, ct).ConfigureAwait(false);
            }
        }
    }
}
