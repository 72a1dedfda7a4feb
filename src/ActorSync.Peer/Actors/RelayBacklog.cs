using System.Collections.Concurrent;
using ActorSync.Core.Identity;

namespace ActorSync.Peer.Actors;

/// <summary>
/// How many envelopes this device sent still wait in each device's relay mailbox, as the relay last
/// answered: written by the relay client, read by `ws show`. Absent: nothing was sent through the
/// relay to that device since this peer started.
/// </summary>
public sealed class RelayBacklog
{
    private readonly ConcurrentDictionary<DeviceId, int> _waiting = new();

    public int? WaitingFor(DeviceId device) => _waiting.TryGetValue(device, out var n) ? n : null;

    internal void Set(DeviceId device, int waiting) => _waiting[device] = waiting;
}
