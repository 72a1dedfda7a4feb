using Akka.Actor;
using Akka.Persistence;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Replication;
using ActorSync.Protocol;
using ActorSync.Protocol.Journal;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// /workspaces (persistence id "workspaces"): remembers which workspaces this device holds, starts a
/// <see cref="WorkspaceActor"/> for each (named by workspace id), creates and joins new ones, and
/// routes API requests and link frames to them.
/// </summary>
public sealed partial class WorkspaceManager : UntypedPersistentActor
{
    private readonly PeerContext _peer;
    private readonly IActorRef _links;
    private readonly HashSet<WorkspaceId> _known = [];

    public WorkspaceManager(PeerContext peer, IActorRef links)
    {
        _peer = peer;
        _links = links;
    }

    public static Props Props(PeerContext peer, IActorRef links) => Akka.Actor.Props.Create(() => new WorkspaceManager(peer, links));

    public override string PersistenceId => "workspaces";

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case WorkspaceCreated c:
                _known.Add(WorkspaceId.FromBytes(c.Workspace.Span));
                break;
            case WorkspaceForgotten f:
                _known.Remove(WorkspaceId.FromBytes(f.Workspace.Span));
                break;
            case RecoveryCompleted:
                foreach (var id in _known) Start(id);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case CreateWorkspace create:
                var id = WorkspaceId.New();
                AddThen(id, child => child.Forward(new Initialize(create.Name, null)));
                break;
            case JoinWorkspace join:
                Invitation invitation;
                try
                {
                    invitation = InvitationCodec.Decode(join.Invitation);
                }
                catch (WireFormatException e)
                {
                    Sender.Tell(new Refused("not a valid invitation: " + e.Message));
                    return;
                }
                // A signed invitation may still be for someone else or carry keys this account cannot
                // open; refuse it before its workspace id is taken, so the genuine one can still join.
                if (invitation.Invitee != _peer.Account.Id)
                {
                    Sender.Tell(new Refused("that invitation is for another account"));
                    return;
                }
                try
                {
                    using var ring = new Core.Crypto.EpochKeyring(invitation.Workspace);
                    ring.Import(Core.Crypto.KeyWrap.Unwrap(invitation.WrappedKeyring, _peer.Account.Agreement, Invitation.KeyContext(invitation.Workspace)));
                }
                catch (WireFormatException e)
                {
                    Sender.Tell(new Refused("the invitation's keys cannot be opened by this account: " + e.Message));
                    return;
                }
                if (_known.Contains(invitation.Workspace))
                {
                    Sender.Tell(new Refused("this device holds that workspace already", 409));
                    return;
                }
                AddThen(invitation.Workspace, child => child.Forward(new Initialize(null, join.Invitation)));
                break;
            case ToWorkspace to when _known.Contains(to.Workspace):
                Child(to.Workspace).Forward(to.Message);
                break;
            case ToWorkspace to:
                Sender.Tell(new Refused($"no workspace {to.Workspace} on this device", 404));
                break;
            case InboundFrame frame:
                if (WorkspaceOf(frame.Frame) is { } ws && _known.Contains(ws)) Child(ws).Forward(frame);
                break;
            case DurabilityBarrier barrier:
                // Every workspace passes it once its earlier writes are durable; one that does not answer holds it back.
                var passed = _known.Select(w => Child(w).Ask<WorkspaceProtocol.Flushed>(WorkspaceProtocol.Flush.Instance, _peer.Settings.AskTimeout)).ToList();
                var replyTo = barrier.ReplyTo.IsNobody() ? Sender : barrier.ReplyTo;
                Task.WhenAll(passed).PipeTo(replyTo, success: _ => new BarrierPassed(barrier.Id), failure: _ => new BarrierPassed(barrier.Id, Ok: false));
                break;
            case Device.DeviceProtocol.WhenReady:
                // Each workspace answers a query only once recovered.
                var recovered = _known.Select(w => Child(w).Ask(new GetSummary(), _peer.Settings.AskTimeout)).ToList();
                Task.WhenAll(recovered).PipeTo(Sender, success: _ => new Device.DeviceProtocol.Ready());
                break;
            case ListWorkspaces:
                var asks = _known.Select(w => Child(w).Ask(new GetSummary(), _peer.Settings.AskTimeout)).ToList();
                Task.WhenAll(asks).PipeTo(Sender, success: all => new WorkspaceList(all.OfType<Api.WorkspaceSummary>().ToList()));
                break;
            case WorkspaceBackupProtocol.ImportWorkspace import:
                Import(import);
                break;
            case ImportAnswered answered:
                Imported(answered);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void AddThen(WorkspaceId id, Action<IActorRef> then)
    {
        Persist(new WorkspaceCreated { Workspace = ByteString.CopyFrom(id.ToBytes()) }, _ =>
        {
            _known.Add(id);
            then(Start(id));
        });
    }

    private IActorRef Start(WorkspaceId id)
    {
        var child = Context.Child(id.ToString());
        return child.IsNobody() ? Context.ActorOf(WorkspaceActor.Props(id, _peer, _links), id.ToString()) : child;
    }

    private IActorRef Child(WorkspaceId id) => Start(id);

    private static WorkspaceId? WorkspaceOf(LinkFrame frame)
    {
        try
        {
            return frame.BodyCase switch
            {
                LinkFrame.BodyOneofCase.Summary => frame.Summary.Workspace.ToWorkspaceId(),
                LinkFrame.BodyOneofCase.Deltas => frame.Deltas.Workspace.ToWorkspaceId(),
                LinkFrame.BodyOneofCase.Ack => frame.Ack.Workspace.ToWorkspaceId(),
                _ => null,
            };
        }
        catch (WireFormatException)
        {
            return null;
        }
    }
}
