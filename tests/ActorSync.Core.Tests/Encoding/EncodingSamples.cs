using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Tests.Support;

namespace ActorSync.Core.Tests.Encoding;

/// <summary>
/// Valid encodings of every wire type, built once per spec class: the starting points that the
/// robustness properties damage. Deltas of every administrative and tool kind come from a real
/// workspace, so they are exactly what a peer would send.
/// </summary>
public sealed class EncodingSamples : IDisposable
{
    public const string WrapContext = "workspace/robustness";

    public EncodingSamples()
    {
        Workspace = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        var ann = Workspace["ann"];
        var discussion = new ToolId("discussion");
        var post = Must(ann.Author(discussion, new CreateEntry(EntryFields.Of(("text", "hello"), ("title", "greeting"))), Workspace.Tick()));
        Must(ann.Author(discussion, new EditEntry(post.Last.Id, EntryFields.Of(("text", "hello again"))), Workspace.Tick()));
        Must(ann.Author(new ToolId("files"), new PutFile("docs/a.txt", 5, new byte[32], [new FileChunk(new byte[32], 5)]), Workspace.Tick()));
        Must(ann.Author(ToolId.Workspace, new AddTool(new ToolId("notes-2"), ToolKind.Notepad, "Notes 2"), Workspace.Tick()));
        Must(ann.Author(ToolId.Workspace, new ChangeRole(Workspace.Member("cat").Id, Role.Participant), Workspace.Tick()));
        Must(ann.Uninvite(Workspace.Member("cat").Id, Workspace.Tick()));
        Must(ann.Rekey(Workspace.Tick()));
        Must(ann.Author(discussion, new DeleteEntry(post.Last.Id), Workspace.Tick()));
        Workspace.SyncAll();
        Deltas = [.. ann.Log];

        Card = Workspace.Member("bob").Card;
        Recipient = AgreementKeyPair.Generate();
        Secret = [.. Enumerable.Range(0, 100).Select(i => (byte)i)];
        Wrapped = KeyWrap.Wrap(Secret, Recipient.PublicKeyBytes, WrapContext);
        Keyring = ann.Keyring.Export();
    }

    public TestWorkspace Workspace { get; }

    /// <summary>Every delta of a workspace's life: creation, invitations, entries, files, tools, roles, an uninvite and a rotation.</summary>
    public IReadOnlyList<SealedDelta> Deltas { get; }
    public ContactCard Card { get; }
    public AgreementKeyPair Recipient { get; }
    public byte[] Secret { get; }
    public byte[] Wrapped { get; }
    public byte[] Keyring { get; }

    private static Replication.AuthorResult Must(Replication.AuthorResult result) =>
        result.Ok ? result : throw new InvalidOperationException("sample delta refused: " + result.Rejection);

    public void Dispose()
    {
        Recipient.Dispose();
        Workspace.Dispose();
    }
}
