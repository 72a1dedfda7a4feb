using System.Security.Cryptography;
using Akka.Event;
using Akka.Persistence;
using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Identity;
using ActorSync.Core.Lifecycle;
using ActorSync.Core.Replication;
using ActorSync.Protocol;
using ActorSync.Protocol.Journal;
using Google.Protobuf;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// Snapshots and log pruning (ARCHITECTURE section 5). Every actorsync.workspace.snapshot-every
/// journaled deltas, or when actorsync.workspace.prune-after deltas held by every active member
/// device can leave the log, the replica's image (sealed for this account: it is decrypted state)
/// is saved as a snapshot with what the actor's other events built; once saved, the journal events
/// it covers are deleted, the pruned deltas' bytes with them, and recovery starts from it.
/// Snapshots are taken only while nothing the replica applied is still being written, so a
/// snapshot never holds a delta whose journal write could still fail.
/// </summary>
public sealed partial class WorkspaceActor
{
    private const string SnapshotContext = "snapshot";
    private int _appliedAtSnapshot;
    private int _snapshotApplied;
    private bool _snapshotIsImage;
    private bool _snapshotting;
    private VersionVector _snapshotSeen = VersionVector.Empty;
    // What waits for the snapshot in flight (an import of a pruned workspace answers only once its image is saved).
    private (Action Saved, Action<string> Failed)? _afterSnapshot;

    private string ImageContext => "image/" + _id;

    /// <summary>Where a recovery from a snapshot spent its time (logged with the ready line).</summary>
    private string? _snapshotTimes;

    private void RestoreSnapshot(WorkspaceSnapshot s)
    {
        var loaded = _recovery.ElapsedMilliseconds;
        var keyring = new EpochKeyring(_id);
        keyring.Import(KeyWrap.Unwrap(s.Keyring.Span, _peer.Account.Agreement, KeyContext));
        var image = ImageSeal.Open(s.Image.Span, _peer.Account.Agreement, ImageContext + "/" + SnapshotContext);
        var opened = _recovery.ElapsedMilliseconds;
        _replica?.Dispose();
        _replica = Replica.FromImage(image, _peer.Account, _peer.Device, keyring, _chunks);
        CryptographicOperations.ZeroMemory(image);
        _snapshotTimes = $"snapshot of {s.Image.Length / 1024} KiB loaded at {loaded} ms, opened in {opened - loaded} ms, image read in {_recovery.ElapsedMilliseconds - opened} ms";
        _appliedAtSnapshot = _replica.State.AppliedCount;
        _joinedBy = s.Invitation.IsEmpty ? null : InvitationCodec.Decode(s.Invitation.Span);
        _joinedByBytes = s.Invitation;
        if (_joinedBy is not null) _peer.Known.Learn(_joinedBy.Inviter);
        foreach (var receipt in s.Receipts) RecoverReceipt(new ReceiptRecorded { Receipt = receipt });
        foreach (var seen in s.Heard) RecoverSeen(seen);
        _entered = _enteredRecorded = s.Entered;
        _reentered = s.Reentered;
        _trackedSince = s.TrackedSince;
    }

    /// <summary>On each anti-entropy tick: prune what every active member holds, and snapshot when due.</summary>
    private void MaybeSnapshot()
    {
        var r = _replica;
        if (r is null || _leaving is not null || _dormant) return;
        if (_snapshotting)
        {
            return;
        }
        // An image this copy started from is saved before anything else (retried after a failure).
        if (_imagePending)
        {
            TakeSnapshot();
            return;
        }
        // Only while every applied delta is in the journal (deltas merely rejected are never journaled).
        if (!_durable.Dominates(r.State.Applied)) return;
        var settings = _peer.Settings;
        var pruned = 0;
        if (settings.PruneAfter > 0 && r.LogCount >= settings.PruneAfter)
        {
            var floor = HeldByAllActive();
            if (CountPrunable(r, floor) >= settings.PruneAfter)
            {
                pruned = r.Prune(floor.Contains);
                // Log positions moved: every device's send cursor starts again from the top.
                foreach (var sync in _sync.Values) sync.Cursor = 0;
                _log.Info("Workspace {Workspace}: {Pruned} deltas every active member holds left the log ({Kept} kept)", _id, pruned, r.LogCount);
            }
        }
        if (pruned > 0 || r.State.AppliedCount - _appliedAtSnapshot >= settings.SnapshotEvery) TakeSnapshot();
    }

    private static int CountPrunable(Replica r, VersionVector floor)
    {
        var count = 0;
        for (var i = 0; i < r.LogCount; i++)
        {
            var logged = r.LogAt(i);
            if (Replica.Prunable(logged.Kind) && floor.Contains(logged.Id)) count++;
        }
        return count;
    }

    /// <summary>
    /// What every active member device has confirmed (summaries and acks, never what was merely
    /// sent): the pointwise minimum of their vectors. Dormant devices pin nothing; a member device
    /// never heard from pins everything. A removed member's device that has not erased its copy
    /// yet pins what leads up to its removal (it must apply its removal to erase).
    /// </summary>
    private VersionVector HeldByAllActive()
    {
        var r = _replica!;
        var floor = r.Seen;
        foreach (var member in r.State.Current.Members.Values)
        foreach (var device in member.Card.Devices)
        {
            if (device.Id == _peer.Device.Id || IsDormant(device.Id)) continue;
            floor = Lower(floor, ConfirmedBy(device.Id), null);
        }
        foreach (var removal in r.State.Admin.Events)
        {
            if (removal.Op is not Core.Operations.RemoveMember removed || r.State.Current.IsMember(removed.Member)) continue;
            foreach (var device in r.State.Current.CardOf(removed.Member)?.Devices ?? [])
            {
                if (device.Id == _peer.Device.Id || IsDormant(device.Id) || HasErased(device.Id) || RemovalBoundOf(device.Id) is not { } bound) continue;
                floor = Lower(floor, ConfirmedBy(device.Id), bound);
            }
        }
        return floor;
    }

    private VersionVector ConfirmedBy(DeviceId device) => _sync.GetValueOrDefault(device)?.Confirmed ?? VersionVector.Empty;

    /// <summary>The floor lowered to what a device confirmed, on the devices where it still needs something (all, or those within its bound).</summary>
    private static VersionVector Lower(VersionVector floor, VersionVector confirmed, VersionVector? bound) =>
        VersionVector.From(floor.Entries.Select(e => KeyValuePair.Create(e.Device,
            bound is null || confirmed[e.Device] < bound[e.Device] ? Math.Min(e.Seq, confirmed[e.Device]) : e.Seq)));

    private void TakeSnapshot()
    {
        var r = _replica!;
        // The image may name file content by its place in the chunk pack: those bytes are made durable first.
        _chunks.Flush();
        var image = ImageSeal.Seal(r.WriteImage(ImageLog.Local), _peer.Account.Agreement.PublicKeyBytes, ImageContext + "/" + SnapshotContext);
        var snapshot = new WorkspaceSnapshot
        {
            Image = UnsafeByteOperations.UnsafeWrap(image),
            Keyring = ByteString.CopyFrom(KeyWrap.Wrap(r.Keyring.Export(), _peer.Account.Agreement.PublicKeyBytes, KeyContext)),
            Invitation = _joinedBy is null ? ByteString.Empty : _joinedByBytes,
            Entered = _entered,
            Reentered = _reentered,
            TrackedSince = _trackedSince,
        };
        foreach (var receipt in _receiptBytes.Values) snapshot.Receipts.Add(receipt);
        foreach (var (device, millis) in _heard) snapshot.Heard.Add(new MemberSeen { Device = device.ToWire(), Millis = millis });
        _snapshotting = true;
        _snapshotIsImage = _imagePending;
        _snapshotSeen = r.Seen;
        _snapshotApplied = r.State.AppliedCount;
        SaveSnapshot(snapshot);
    }

    /// <summary>Handles the snapshot store's answers; false for anything else.</summary>
    private bool OnSnapshotResult(object message)
    {
        switch (message)
        {
            case SaveSnapshotSuccess saved:
                _snapshotting = false;
                _appliedAtSnapshot = _snapshotApplied;
                _durable = _durable.Merge(_snapshotSeen);
                // The snapshot holds everything up to here: the events go (pruned deltas with them), and older snapshots.
                DeleteMessages(saved.Metadata.SequenceNr);
                DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
                _log.Info("Workspace {Workspace}: snapshot at {SequenceNr} saved ({Logged} deltas in the log)", _id, saved.Metadata.SequenceNr, _replica?.LogCount);
                if (_snapshotIsImage) AfterImageSaved();
                // An image taken while an earlier snapshot was being saved: saved now.
                else if (_imagePending) TakeSnapshot();
                if (_afterSnapshot is { } waiting)
                {
                    _afterSnapshot = null;
                    waiting.Saved();
                }
                return true;
            case SaveSnapshotFailure failed:
                _snapshotting = false;
                _log.Error(failed.Cause, "Workspace {Workspace}: snapshot not saved; the journal keeps everything", _id);
                if (_afterSnapshot is { } failing)
                {
                    _afterSnapshot = null;
                    failing.Failed(failed.Cause.Message);
                }
                return true;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess:
                return true;
            case DeleteMessagesFailure failed:
                _log.Warning("Workspace {Workspace}: journal events covered by a snapshot not deleted ({Reason})", _id, failed.Cause.Message);
                return true;
            case DeleteSnapshotsFailure failed:
                _log.Warning("Workspace {Workspace}: old snapshots not deleted ({Reason})", _id, failed.Cause.Message);
                return true;
            default:
                return false;
        }
    }
}
