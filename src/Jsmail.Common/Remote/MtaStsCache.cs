using System.Globalization;
using System.Text;

namespace Jsmail.Common.Remote;

/// <summary>A policy as cached: its text parsed, the TXT id it was fetched under, and when it expires (Unix seconds).</summary>
public sealed record CachedMtaSts(MtaStsPolicy Policy, string Id, long Expires);

/// <summary>
/// MTA-STS policies on disk (RFC 8461 §5.1: a sender caches them for
/// max_age), one file a domain in queue/mta-sts/ (install.sh makes it,
/// owned by qmailr, which runs jsmail-remote and jsmail-rspawn). A file is
/// "jsmail-mta-sts 1", "id ID", "expires SECONDS", an empty line, then the
/// policy as it was served; it is parsed again when read, so a damaged file
/// is no policy, never a wrong one. Written to a temporary file and renamed
/// over the old one: a reader sees the old file or the new one, whole.
/// A cache that cannot be read or written is no cache: delivery goes on,
/// fetching the policy each time.
/// </summary>
public sealed class MtaStsCache(string directory)
{
    private const string Magic = "jsmail-mta-sts 1";

    public string Directory => directory;

    /// <summary>The file of a domain, or null for a name that is no plain host name (nothing to fetch for it either).</summary>
    private string? PathOf(string domain) =>
        domain.Length is > 0 and <= 253 && domain[0] != '.' && domain.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
            ? Path.Combine(directory, domain) : null;

    public CachedMtaSts? Read(string domain)
    {
        if (PathOf(domain) is not { } path) return null;
        string text;
        try { text = File.ReadAllText(path, Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        var end = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (end < 0) return null;
        var head = text[..end].Split('\n');
        if (head.Length != 3 || head[0] != Magic || !head[1].StartsWith("id ", StringComparison.Ordinal) ||
            !head[2].StartsWith("expires ", StringComparison.Ordinal) ||
            !long.TryParse(head[2]["expires ".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
            return null;
        return MtaStsPolicy.Parse(text[(end + 2)..], out _) is { } policy ? new CachedMtaSts(policy, head[1][3..], expires) : null;
    }

    /// <summary>Stores a fetched policy; false (and <paramref name="why"/>) when it could not.</summary>
    public bool Write(string domain, string id, long expires, string policyText, out string why)
    {
        why = "";
        if (PathOf(domain) is not { } path) { why = "not a host name"; return false; }
        var temp = Path.Combine(directory, $".{domain}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            File.WriteAllText(temp, $"{Magic}\nid {id}\nexpires {expires.ToString(CultureInfo.InvariantCulture)}\n\n{policyText}", new UTF8Encoding(false));
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = e.Message;
            try { File.Delete(temp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            return false;
        }
    }
}
