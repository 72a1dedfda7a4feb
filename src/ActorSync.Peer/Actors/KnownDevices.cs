using System.Collections.Concurrent;
using ActorSync.Core.Crypto;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using NSec.Cryptography;

namespace ActorSync.Peer.Actors;

/// <summary>One device this peer knows from a contact card or a workspace's member list.</summary>
public sealed record KnownDevice(DeviceId Id, AccountId Account, string Name, PublicKey SigningKey, byte[]? TlsPin, IReadOnlyList<string> Relays);

/// <summary>
/// Every device this peer will talk to, learned from signed cards only: their Ed25519 keys (to check
/// presence announcements) and TLS pins (to accept and dial links). Written by actors, read by
/// Kestrel and UDP threads, hence concurrent.
/// </summary>
public sealed class KnownDevices
{
    private readonly ConcurrentDictionary<DeviceId, KnownDevice> _devices = new();
    private readonly PinDirectory _pins;

    private long _pinConflicts;

    public KnownDevices(PinDirectory pins) => _pins = pins;

    /// <summary>Cards seen that claimed a TLS key already pinned to another device.</summary>
    public long PinConflicts => Interlocked.Read(ref _pinConflicts);

    public IPinDirectory Pins => _pins;

    /// <summary>Adds the devices of a card; true when any was new.</summary>
    public bool Learn(ContactCard card)
    {
        var added = false;
        foreach (var d in card.Devices)
        {
            if (Signing.TryImportPublicKey(d.PublicKey) is not { } key) continue;
            var known = new KnownDevice(d.Id, card.AccountId, card.Name, key, d.TlsPin, card.Relays);
            added |= _devices.TryAdd(d.Id, known);
            // A newer card may name other relays: keep the latest.
            if (!added && _devices.TryGetValue(d.Id, out var old) && !old.Relays.SequenceEqual(card.Relays)) _devices[d.Id] = known;
            // A card naming another device's TLS key must not take over that key's links: refused, counted.
            if (d.TlsPin is { } pin && !_pins.Add(d.Id, pin)) Interlocked.Increment(ref _pinConflicts);
        }
        return added;
    }

    public KnownDevice? Find(DeviceId id) => _devices.GetValueOrDefault(id);

    public IReadOnlyCollection<DeviceId> All => _devices.Keys.ToList();

    public IEnumerable<KnownDevice> OfAccount(AccountId account) => _devices.Values.Where(d => d.Account == account);
}
