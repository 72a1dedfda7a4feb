namespace ActorSync.Core.Operations;

/// <summary>
/// Workspace file paths: relative, '/'-separated, no empty, '.' or '..' segments, no control
/// characters or backslashes, so a hostile path can never escape a peer's file folder.
/// </summary>
public static class FilePaths
{
    public static bool IsValid(string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > 1024) return false;
        if (path.Any(c => char.IsControl(c) || c is '\\' or ':')) return false;
        foreach (var segment in path.Split('/'))
            if (segment.Length == 0 || segment is "." or ".." || segment.Trim().Length == 0) return false;
        return true;
    }

    /// <summary>"report.txt" -> "report (conflict Bob).txt": the name of the copy kept for a losing concurrent change.</summary>
    public static string ConflictCopy(string path, string memberName)
    {
        var safe = new string(memberName.Where(c => !char.IsControl(c) && c is not ('/' or '\\' or ':')).ToArray()).Trim();
        if (safe.Length == 0) safe = "member";
        var slash = path.LastIndexOf('/');
        var dot = path.LastIndexOf('.');
        return dot > slash + 1
            ? $"{path[..dot]} (conflict {safe}){path[dot..]}"
            : $"{path} (conflict {safe})";
    }
}
