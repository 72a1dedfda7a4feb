using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;

namespace ActorSync.Core.Tests.Support;

/// <summary>An account with one device and its contact card, for building replicas in tests.</summary>
public sealed class TestMember : IDisposable
{
    public TestMember(string name)
    {
        Account = AccountIdentity.Generate(name);
        Device = DeviceIdentity.Generate();
        Card = ContactCard.Create(Account, [Device.Signing.PublicKeyBytes], ["https://127.0.0.1:7000"], 1_000);
    }

    public AccountIdentity Account { get; }
    public DeviceIdentity Device { get; }
    public ContactCard Card { get; }
    public AccountId Id => Account.Id;
    public string Name => Account.Name;

    public Replica CreateWorkspace(string name, long now, out SealedDelta genesis) =>
        Replica.Create(name, Account, Device, Card, now, out genesis);

    public Replica Join(Invitation invitation) => Replica.Join(invitation, Account, Device);

    public void Dispose()
    {
        Account.Dispose();
        Device.Dispose();
    }
}

/// <summary>A small workspace of named members, each with its own replica, wired by handing deltas across.</summary>
public sealed class TestWorkspace : IDisposable
{
    private readonly List<TestMember> _members = [];
    public Dictionary<string, Replica> Replicas { get; } = [];
    public long Now { get; set; } = 1_700_000_000_000;

    public static TestWorkspace WithMembers(params (string Name, Role Role)[] members)
    {
        var ws = new TestWorkspace();
        var owner = new TestMember(members[0].Name);
        ws._members.Add(owner);
        ws.Replicas[owner.Name] = owner.CreateWorkspace("test", ws.Now, out _);
        foreach (var (name, role) in members.Skip(1))
        {
            var m = new TestMember(name);
            ws._members.Add(m);
            var result = ws.Replicas[owner.Name].Invite(m.Card, role, ws.Tick(), out var invitation);
            if (!result.Ok) throw new InvalidOperationException(result.Rejection);
            var joined = m.Join(invitation!);
            foreach (var d in ws.Replicas[owner.Name].Log) joined.Receive(d);
            ws.Replicas[name] = joined;
            ws.SyncAll();
        }
        return ws;
    }

    public TestMember Member(string name) => _members.Single(m => m.Name == name);
    public Replica this[string name] => Replicas[name];

    public long Tick() => Now += 7;

    /// <summary>Anti-entropy between every pair until quiet.</summary>
    public void SyncAll()
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var from in Replicas.Values)
            foreach (var to in Replicas.Values)
            {
                if (from == to) continue;
                foreach (var d in from.MissingFrom(to.Seen).ToList())
                    changed |= to.Receive(d)[0].Status is ReceiveStatus.Applied or ReceiveStatus.Rejected;
            }
        } while (changed);
    }

    public void Dispose()
    {
        foreach (var r in Replicas.Values) r.Dispose();
        foreach (var m in _members) m.Dispose();
    }
}
