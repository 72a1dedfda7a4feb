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
        var w = new WireWriter(4096);
        var admin = state.Current;
        w.Bool(admin.Created);
        w.Bool(admin.Deleted);
        w.String(admin.Name);
        w.VarUInt((ulong)admin.Members.Count);
        foreach (var (id, m) in admin.Members)
        {
            w.String(id.ToString());
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
                e.Id.Write(w);
                w.String(e.Creator.ToString());
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
                w.String(view.Name);
                view.Version.Id.Write(w);
                w.VarUInt((ulong)view.Version.Version);
                w.Raw(view.Version.ContentHash);
            }
        }
        return Convert.ToHexStringLower(SHA256.HashData(w.WrittenSpan));
    }
}
