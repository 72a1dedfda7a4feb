using ActorSync.Core.Operations;
using ActorSync.Core.Replication;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>What the workspace tells the user (the alert stream): one line per delta from others, by kind.</summary>
public sealed partial class WorkspaceActor
{
    private void Publish(string kind, string text) =>
        Context.System.EventStream.Publish(new Alert(_peer.Clock.GetUtcNow(), kind, _id.ToString(), text));

    private static string AlertKind(OpKind kind) => kind switch
    {
        OpKind.InviteMember or OpKind.RemoveMember or OpKind.ChangeRole => "member",
        OpKind.PutFile or OpKind.DeleteFile => "file",
        OpKind.StoreChunk => "content",
        _ when kind < OpKind.CreateEntry => "workspace",
        _ => "entry",
    };

    private string Describe(LoggedDelta d)
    {
        var author = _replica!.State.Current.CardOf(d.Header.Author)?.Name ?? d.Header.Author.Short;
        return d.Header.Kind switch
        {
            OpKind.CreateEntry => $"{author} added an entry to {d.Header.Tool} ({d.Id})",
            OpKind.EditEntry => $"{author} edited an entry in {d.Header.Tool}",
            OpKind.DeleteEntry => $"{author} deleted an entry in {d.Header.Tool}",
            OpKind.PutFile => $"{author} changed a file",
            OpKind.DeleteFile => $"{author} deleted a file",
            OpKind.InviteMember => $"{author} invited a member",
            OpKind.RemoveMember => $"{author} removed a member",
            OpKind.ChangeRole => $"{author} changed a role",
            _ => $"{author}: {d.Header.Kind}",
        };
    }
}
