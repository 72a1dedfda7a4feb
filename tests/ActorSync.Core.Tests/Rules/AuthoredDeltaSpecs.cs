using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// A replica applies what it authors without checking its own signature again (it signed the
/// bytes a moment before): what it hands on must still carry a signature every member checks,
/// whatever the kind of delta, and a member still drops a copy whose signature was tampered with.
/// </summary>
public class AuthoredDeltaSpecs
{
    private static readonly ToolId Discussion = new("discussion");

    [Fact]
    public void Authored_deltas_should_carry_a_signature_the_author_device_key_verifies_and_be_applied_by_every_member()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        using var dan = new TestMember("dan");
        var ann = ws.Member("ann");
        List<SealedDelta> authored =
        [
            .. Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "hello"))), ws.Tick())),
            .. Must(ws["ann"].Rekey(ws.Tick())),
            .. Must(ws["ann"].Invite(dan.Card, Role.Guest, ws.Tick(), out _)),
            .. Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "after the rotation"))), ws.Tick())),
        ];
        var key = Signing.TryImportPublicKey(ann.Card.FindDevice(ann.Device.Id)!.PublicKey);
        Assert.NotNull(key);

        Assert.All(authored, d => Assert.True(DeltaCrypto.VerifySignature(DeltaCodec.Decode(d.Bytes), key!), $"{d.Id} does not verify"));
        Assert.All(authored, d => Assert.True(ws["ann"].State.IsApplied(d.Id)));
        ws.SyncAll();
        foreach (var name in new[] { "bob", "cat" })
            Assert.All(authored, d => Assert.True(ws[name].State.IsApplied(d.Id), $"{name} lacks {d.Id}"));
        Assert.Single(ws.Replicas.Values.Select(r => r.State.StateHash()).Distinct());
    }

    [Fact]
    public void A_tampered_copy_of_an_authored_delta_should_still_be_dropped_by_a_member()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant));
        var genuine = Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "hello"))), ws.Tick()))[0];
        var bytes = (byte[])genuine.Bytes.Clone();
        bytes[^1] ^= 0x01;

        var outcome = ws["bob"].Receive(DeltaCodec.Decode(bytes));

        Assert.Equal(ReceiveStatus.Dropped, outcome[0].Status);
        Assert.Contains("bad signature", outcome[0].Reason, StringComparison.Ordinal);
        Assert.Equal(ReceiveStatus.Applied, ws["bob"].Receive(DeltaCodec.Decode(genuine.Bytes))[0].Status);
    }

    [Fact]
    public void An_operation_no_member_could_decode_should_be_refused_to_its_author_and_replicas_should_stay_equal()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant));
        var files = ws["ann"].State.DefaultTool(ToolKind.Files)!.Value;
        var content = "hello"u8.ToArray();
        var hash = System.Security.Cryptography.SHA256.HashData(content);

        // Past the decoder's caps: an entry value over 256 KiB; a path of 600 characters but 1,200 UTF-8 bytes.
        var longText = ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", new string('x', EntryFields.MaxValueBytes + 1)))), ws.Tick());
        var longPath = ws["ann"].Author(files, new PutFile(new string('\u00e9', 600), content.Length, hash, [new FileChunk(hash, content.Length)]), ws.Tick());

        Assert.False(longText.Ok);
        Assert.Contains("cannot be sent", longText.Rejection, StringComparison.Ordinal);
        Assert.False(longPath.Ok);
        Assert.Contains("cannot be sent", longPath.Rejection, StringComparison.Ordinal);
        // Nothing was sealed for them: the author's next change is the next in its sequence, and every member applies it.
        var next = Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "still here"))), ws.Tick()))[0];
        ws.SyncAll();
        Assert.True(ws["bob"].State.IsApplied(next.Id));
        Assert.Equal(ws["ann"].State.StateHash(), ws["bob"].State.StateHash());
    }

    private static IReadOnlyList<SealedDelta> Must(AuthorResult result)
    {
        Assert.True(result.Ok, result.Rejection);
        return result.Deltas;
    }
}
