using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;

namespace ActorSync.Core.Tests.Support;

/// <summary>A workspace of <c>owner</c>'s with a files tool, its chunks in <c>store</c>, and <c>invitee</c> invited as a participant.</summary>
internal static class FilesWorkspace
{
    public static Replica Create(TestMember owner, TestMember invitee, IChunkStore store, ref long now, out ToolId files, out Invitation invitation)
    {
        var replica = Replica.Create(WorkspaceId.New(), "files", owner.Account, owner.Device, owner.Card, now, out _, store);
        files = replica.State.DefaultTool(ToolKind.Files) ?? new ToolId("files");
        if (replica.State.DefaultTool(ToolKind.Files) is null && !replica.Author(ToolId.Workspace, new AddTool(files, ToolKind.Files, "Files"), now += 7).Ok)
            throw new InvalidOperationException("the files tool was not added");
        if (!replica.Invite(invitee.Card, Role.Participant, now += 7, out var invited).Ok) throw new InvalidOperationException("the invitation was refused");
        invitation = invited!;
        return replica;
    }
}
