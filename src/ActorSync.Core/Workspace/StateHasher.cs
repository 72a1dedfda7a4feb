using System.Security.Cryptography;
using ActorSync.Core.Encoding;

namespace ActorSync.Core.Workspace;

/// <summary>
/// Canonical bytes of a workspace's state, hashed with SHA-256. Everything a member can see goes
/// in, in sorted order; nothing local to one replica does (arrival order, buffers, timestamps of
/// arrival), so equal hashes mean equal workspaces.
/// </summary>
internal static class StateHasher
{
    public static string Hash(WorkspaceState state)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var w = new WireWriter(64 * 1024);
        // Hash in slices so a large workspace never builds its whole encoding in one buffer.
        void Flush(bool force = false)
        {
            if (!force && w.Length < 60 * 1024) return;
            hash.AppendData(w.WrittenSpan);
            w.Reset();
        }
        var admin = state.Current;
        w.Bool(admin.Created);
        w.Bool(admin.Deleted);
        w.String(admin.Name);
        w.VarUInt((ulong)admin.Members.Count);
        foreach (var (id, m) in admin.Members)
        {
            WriteAccount(w, id);
            w.Byte((byte)m.Role);
            w.Bytes(m.Card.Encoded);
        }
        w.VarUInt((ulong)admin.Tools.Count);
        foreach (var (id, t) in admin.Tools)
        {
            w.String(id);
            w.Byte((byte)t.Kind);
            w.String(t.Name);
        }
        w.VarUInt((ulong)admin.Overrides.Count);
        foreach (var ((tool, role), p) in admin.Overrides)
        {
            w.String(tool);
            w.Byte((byte)role);
            w.VarUInt((uint)p);
        }
        admin.Epoch.Write(w);
        foreach (var (tool, entries) in state.EntryTools)
        {
            w.String(tool);
            foreach (var e in entries.All)
            {
                Flush();
                e.Id.Write(w);
                WriteAccount(w, e.Creator);
                w.UInt64Fixed(e.Created.Packed);
                w.Bool(e.Deleted);
                foreach (var (k, v) in e.Values)
                {
                    w.String(k);
                    w.String(v);
                }
            }
        }
        foreach (var (tool, files) in state.FileTools)
        {
            w.String(tool);
            foreach (var view in files.View())
            {
                Flush();
                w.String(view.Name);
                view.Version.Id.Write(w);
                w.VarUInt((ulong)view.Version.Version);
                w.Raw(view.Version.ContentHash);
            }
        }
        Flush(force: true);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void WriteAccount(WireWriter w, Identity.AccountId id)
    {
        Span<byte> raw = stackalloc byte[Identity.Fingerprint.Size];
        id.Value.WriteTo(raw);
        w.Raw(raw);
    }
}
