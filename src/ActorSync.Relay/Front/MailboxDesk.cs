using Akka.Actor;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace ActorSync.Relay.Front;

/// <summary>
/// What both device front ends (gRPC and the HTTP/1.1 gateway) do with the sharded mailboxes, so
/// the two routes share one set of limits and errors: store for every recipient (accepted only once
/// all hold it durably), acknowledge, and count what a sender still has waiting.
/// </summary>
public sealed class MailboxDesk
{
    /// <summary>Most devices one pending query or acknowledgement may name.</summary>
    public const int MaxIdsPerRequest = 10_000;

    /// <summary>Most devices one pending query may name (a workspace's member devices).</summary>
    public const int MaxPendingDevices = 256;

    private readonly IActorRef _mailboxes;
    private readonly RelayFrontSettings _settings;
    private readonly ILogger _log;
    private long _accepted;

    public MailboxDesk(IActorRef mailboxes, RelayFrontSettings settings, ILogger log)
    {
        _mailboxes = mailboxes;
        _settings = settings;
        _log = log;
    }

    public RelayFrontSettings Settings => _settings;

    /// <summary>Envelopes durably accepted (all recipients) by this node since it started.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Stores one envelope for every recipient; the answer carries an empty error only once all mailboxes hold it durably.</summary>
    public async Task<Accepted> StoreAsync(DeviceId sender, Enqueue enqueue)
    {
        string? error = null;
        if (enqueue.MessageId.Length != 16) error = "a message id is 16 bytes";
        else if (enqueue.Recipients.Count == 0 || enqueue.Recipients.Count > _settings.MaxRecipients) error = $"1 to {_settings.MaxRecipients} recipients";
        else if (enqueue.Payload.Length > _settings.MaxFrameBytes) error = "payload too large";
        if (error is null)
        {
            try
            {
                var senderWire = sender.ToWire();
                var replies = await Task.WhenAll(enqueue.Recipients.Select(r =>
                {
                    r.ToDeviceId();
                    return _mailboxes.Ask<MailboxReply>(new MailboxStore
                    {
                        Recipient = r, MessageId = enqueue.MessageId, Sender = senderWire, Payload = enqueue.Payload,
                    }, _settings.AskTimeout);
                })).ConfigureAwait(false);
                error = replies.FirstOrDefault(r => !r.Accepted)?.Error;
            }
            catch (WireFormatException e)
            {
                error = e.Message;
            }
            catch (AskTimeoutException)
            {
                error = "the relay did not store it in time; retry";
            }
        }
        if (error is null) Interlocked.Increment(ref _accepted);
        else _log.LogInformation("Enqueue from {Device} refused: {Reason}", sender.Short, error);
        return new Accepted { MessageId = enqueue.MessageId, Error = error ?? "" };
    }

    /// <summary>The device's acknowledgement: these envelopes of its own mailbox are handled.</summary>
    public void Delivered(DeviceId recipient, IReadOnlyCollection<ByteString> ids)
    {
        if (ids.Count > MaxIdsPerRequest) throw new WireFormatException("too many ids");
        if (ids.Count == 0) return;
        var delivered = new MailboxDelivered { Recipient = recipient.ToWire() };
        delivered.MessageIds.AddRange(ids);
        _mailboxes.Tell(delivered);
    }

    /// <summary>For each device asked about: how many envelopes from <paramref name="sender"/> still wait in its mailbox.</summary>
    public async Task<PendingCounts> PendingAsync(DeviceId sender, PendingQuery query)
    {
        if (query.Devices.Count > MaxPendingDevices) throw new WireFormatException($"at most {MaxPendingDevices} devices per pending query");
        foreach (var device in query.Devices) device.ToDeviceId();
        var senderWire = sender.ToWire();
        var counts = await Task.WhenAll(query.Devices.Select(async d =>
        {
            try
            {
                var reply = await _mailboxes.Ask<MailboxPendingCount>(new MailboxPendingFrom { Recipient = d, Sender = senderWire }, _settings.AskTimeout)
                    .ConfigureAwait(false);
                return (int)Math.Min(reply.Count, int.MaxValue);
            }
            catch (AskTimeoutException)
            {
                return -1;
            }
        })).ConfigureAwait(false);
        var answer = new PendingCounts { Query = query.Query };
        answer.Counts.AddRange(counts);
        return answer;
    }
}
