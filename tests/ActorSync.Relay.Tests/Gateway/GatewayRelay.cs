using System.Security.Cryptography;
using Akka.Actor;
using ActorSync.Core.Crypto;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Hosting;
using ActorSync.Relay.Mailboxes;
using Google.Protobuf;
using Xunit;

namespace ActorSync.Relay.Tests.Gateway;

/// <summary>
/// A real relay node in this process with its HTTP/1.1 gateway on 127.0.0.1 (real TLS, a temp
/// home), and the devices and clients a spec makes against it, all disposed with it.
/// </summary>
internal sealed class GatewayRelay : IAsyncDisposable
{
    private readonly string _root;
    private readonly List<IDisposable> _owned = [];

    private GatewayRelay(string root, RelayHost host)
    {
        _root = root;
        Host = host;
    }

    public RelayHost Host { get; }

    public RelayAddress Address => Host.GatewayAddress ?? throw new InvalidOperationException("the relay was started without its gateway");

    /// <summary>Starts a node; <paramref name="config"/> is HOCON laid over the shipped relay.hocon.</summary>
    public static async Task<GatewayRelay> StartAsync(string? config = null, TimeProvider? clock = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "actorsync-gateway-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        string? configFile = null;
        if (config is not null)
        {
            configFile = Path.Combine(root, "relay-test.hocon");
            await File.WriteAllTextAsync(configFile, config);
        }
        var host = await RelayHost.StartAsync(new RelayOptions(Path.Combine(root, "relay"), Http: "127.0.0.1:0", ConfigFile: configFile), clock: clock);
        return new GatewayRelay(root, host);
    }

    public GatewayClient Client() => Own(new GatewayClient(Address));

    public GatewayDevice NewDevice(string name) => Own(GatewayDevice.Create(name));

    /// <summary>A new device of a new account, signed in on its own connection.</summary>
    public async Task<GatewayUser> SignInAsync(string name)
    {
        var device = NewDevice(name);
        var client = Client();
        return new GatewayUser(device, client, await client.SignInAsync(device));
    }

    /// <summary>
    /// Whether a session (a waiting long poll) is attached to the device's mailbox on this node:
    /// lets a spec start sending only once a poll is really waiting, instead of sleeping.
    /// </summary>
    public async Task<bool> IsAttachedAsync(DeviceId device)
    {
        var entity = Host.System.ActorSelection($"/system/sharding/{MailboxSharding.TypeName}/*/{MailboxMessageExtractor.EntityIdOf(device)}");
        try
        {
            var status = await entity.Ask<MailboxProtocol.MailboxStatus>(new MailboxProtocol.GetMailboxStatus(), TimeSpan.FromSeconds(1));
            return status.SessionAttached;
        }
        catch (AskTimeoutException)
        {
            return false;   // the entity does not exist (yet)
        }
    }

    private T Own<T>(T disposable) where T : IDisposable
    {
        lock (_owned) _owned.Add(disposable);
        return disposable;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_owned)
        {
            foreach (var owned in _owned) owned.Dispose();
            _owned.Clear();
        }
        await Host.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A device of its own account, with the signed card that lists it (what a real device presents to sign in).</summary>
internal sealed class GatewayDevice : IDisposable
{
    private GatewayDevice(AccountIdentity account, DeviceIdentity device, ContactCard card)
    {
        Account = account;
        Identity = device;
        Card = card;
    }

    public AccountIdentity Account { get; }
    public DeviceIdentity Identity { get; }
    public ContactCard Card { get; }
    public DeviceId Id => Identity.Id;
    public ByteString Wire => Identity.Id.ToWire();

    /// <summary>The device id as the presence lookup takes it: hex of its wire bytes.</summary>
    public string Hex => Convert.ToHexString(Wire.Span);

    public static GatewayDevice Create(string name)
    {
        var account = AccountIdentity.Generate(name);
        var device = DeviceIdentity.Generate();
        var card = ContactCard.Create(account, [new CardDevice(device.Id, device.Signing.PublicKeyBytes)], [],
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return new GatewayDevice(account, device, card);
    }

    /// <summary>A login for <paramref name="challenge"/> at the relay with <paramref name="relayPin"/>, signed by <paramref name="signer"/> (default: this device's key).</summary>
    public GatewayLogin Login(byte[] challenge, byte[] relayPin, SigningKeyPair? signer = null) => new()
    {
        Card = ByteString.CopyFrom(Card.Encoded),
        Device = Wire,
        Challenge = ByteString.CopyFrom(challenge),
        Signature = ByteString.CopyFrom((signer ?? Identity.Signing).Sign(GatewayContract.LoginMessage(relayPin, challenge))),
    };

    public void Dispose()
    {
        Identity.Dispose();
        Account.Dispose();
    }
}

/// <summary>What specs enqueue.</summary>
internal static class GatewayMail
{
    /// <summary>An enqueue for <paramref name="recipient"/> of opaque random bytes under a fresh 16-byte message id.</summary>
    public static Enqueue To(GatewayDevice recipient, int payloadBytes = 64)
    {
        var enqueue = new Enqueue
        {
            MessageId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)),
            Payload = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(payloadBytes)),
        };
        enqueue.Recipients.Add(recipient.Wire);
        return enqueue;
    }
}

/// <summary>A signed-in device: its own connection and bearer token, with one helper per gateway route.</summary>
internal sealed class GatewayUser
{
    public GatewayUser(GatewayDevice device, GatewayClient client, string token)
    {
        Device = device;
        Client = client;
        Token = token;
    }

    public GatewayDevice Device { get; }
    public GatewayClient Client { get; }
    public string Token { get; }
    public string Authorization => GatewayClient.Bearer(Token);

    public Task<GatewayReply> PostAsync(string path, IMessage message) => Client.PostAsync(path, message, Authorization);

    public Task<GatewayReply> PollReplyAsync(int waitSeconds, CancellationToken ct = default) =>
        Client.SendAsync(HttpMethod.Get, $"{GatewayContract.Mailbox}?wait={waitSeconds}", authorization: Authorization, ct: ct);

    /// <summary>POST enqueue; the answer must be 200 with one entry per enqueue, in order.</summary>
    public async Task<AcceptedBatch> EnqueueAsync(params Enqueue[] enqueues)
    {
        var batch = new EnqueueBatch();
        batch.Enqueues.AddRange(enqueues);
        var accepted = (await PostAsync(GatewayContract.Enqueue, batch)).Message(AcceptedBatch.Parser);
        Assert.Equal(enqueues.Select(e => e.MessageId), accepted.Accepted.Select(a => a.MessageId));
        return accepted;
    }

    /// <summary>POST enqueue of envelopes that must all be accepted (empty errors).</summary>
    public async Task EnqueueAcceptedAsync(params Enqueue[] enqueues)
    {
        var accepted = await EnqueueAsync(enqueues);
        Assert.All(accepted.Accepted, a => Assert.Equal("", a.Error));
    }

    /// <summary>GET mailbox?wait=N: the batch of the long poll.</summary>
    public async Task<EnvelopeBatch> PollAsync(int waitSeconds) => (await PollReplyAsync(waitSeconds)).Message(EnvelopeBatch.Parser);

    public async Task DeliveredAsync(IEnumerable<ByteString> messageIds)
    {
        var delivered = new Delivered();
        delivered.MessageIds.AddRange(messageIds);
        (await PostAsync(GatewayContract.Delivered, delivered)).ShouldBeNoContent();
    }

    public async Task<PendingCounts> PendingAsync(ulong query, params GatewayDevice[] devices)
    {
        var ask = new PendingQuery { Query = query };
        ask.Devices.AddRange(devices.Select(d => d.Wire));
        var counts = (await PostAsync(GatewayContract.Pending, ask)).Message(PendingCounts.Parser);
        Assert.Equal(query, counts.Query);
        return counts;
    }

    public async Task PublishAsync(string address) =>
        (await PostAsync(GatewayContract.Presence, new PresencePublish { Address = address })).ShouldBeNoContent();

    /// <summary>GET presence?device=HEX&amp;device=HEX...</summary>
    public async Task<PresenceList> LookupAsync(params string[] deviceHexes)
    {
        var query = string.Join("&", deviceHexes.Select(h => "device=" + Uri.EscapeDataString(h)));
        return (await Client.SendAsync(HttpMethod.Get, $"{GatewayContract.Presence}?{query}", authorization: Authorization)).Message(PresenceList.Parser);
    }
}

/// <summary>The system clock plus an offset the spec moves forward.</summary>
internal sealed class SteppedClock : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}
