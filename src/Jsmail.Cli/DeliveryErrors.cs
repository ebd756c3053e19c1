using System.Globalization;
using System.Text;

namespace Jsmail.Cli;

/// <summary>One destination's trouble as the queue manager's log tells it.</summary>
/// <param name="Destination">"remote DOMAIN" or "local DOMAIN"</param>
/// <param name="Errors">deferrals and failures since the destination's last success (or since the log begins)</param>
/// <param name="LastAt">when the last of them was logged (multilog's stamp), null when the log has no stamps</param>
/// <param name="LastKind">"deferral" or "failure"</param>
/// <param name="LastText">its text as logged (qmail-send's spelling: '_' for spaces, '/' for line ends)</param>
public sealed record DestinationErrors(string Destination, int Errors, DateTimeOffset? LastAt, string LastKind, string LastText);

/// <summary>
/// <c>jsmail status</c>'s last delivery errors per destination, read from the
/// queue manager's log as multilog keeps it (the rotated <c>@*.s</c> files in
/// name order, then <c>current</c>): each <c>starting delivery N: msg M to
/// CHANNEL RECIPIENT</c> tells where delivery N goes, and its
/// <c>delivery N: deferral|failure|success: TEXT</c> line what became of it.
/// A destination whose latest delivery succeeded is not listed. Only the
/// last <see cref="MaxBytes"/> of the log are read, so a huge log costs little.
/// </summary>
public static class DeliveryErrors
{
    public const long MaxBytes = 16 * 1024 * 1024;

    /// <summary>Where jsmail-send's log is when not given: HOME/log (install-services.sh --single-user), else /var/log/qmail.</summary>
    public static string DefaultLogDir(string home)
    {
        var own = Path.Combine(home, "log");
        return File.Exists(Path.Combine(own, "current")) ? own : "/var/log/qmail";
    }

    /// <summary>The destinations with errors in <paramref name="logDir"/>, the most recent first; empty when there is no log.</summary>
    public static List<DestinationErrors> Read(string logDir)
    {
        var files = LogFiles(logDir);
        var reader = new Reader();
        var budget = MaxBytes;
        // newest first for the budget, then read oldest first
        var chosen = new List<(string Path, long Skip)>();
        for (var i = files.Count - 1; i >= 0 && budget > 0; i--)
        {
            var length = new FileInfo(files[i]).Length;
            chosen.Insert(0, (files[i], Math.Max(0, length - budget)));
            budget -= length;
        }
        foreach (var (path, skip) in chosen) reader.ReadFile(path, skip);
        return reader.Result();
    }

    private static List<string> LogFiles(string dir)
    {
        if (!Directory.Exists(dir)) return [];
        var files = Directory.EnumerateFiles(dir, "@*").Where(f => f.EndsWith(".s") || f.EndsWith(".u"))
            .Order(StringComparer.Ordinal).ToList();
        if (File.Exists(Path.Combine(dir, "current"))) files.Add(Path.Combine(dir, "current"));
        return files;
    }

    /// <summary>The log's lines in order, kept as the state of each delivery number and each destination.</summary>
    public sealed class Reader
    {
        private readonly Dictionary<string, string> _destinationOf = new();
        private readonly Dictionary<string, DestinationErrors> _errors = new(StringComparer.Ordinal);

        public void ReadFile(string path, long skip)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                stream.Position = skip;
                using var text = new StreamReader(stream, Encoding.Latin1);
                if (skip > 0) text.ReadLine(); // the first line read from the middle is a piece of one
                while (text.ReadLine() is { } line) Line(line);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // rotated away meanwhile: fewer lines
        }

        public void Line(string line)
        {
            var at = Stamp(ref line);
            if (line.StartsWith("starting delivery ", StringComparison.Ordinal))
            {
                // starting delivery N: msg M to remote a@example.com
                var colon = line.IndexOf(": msg ", StringComparison.Ordinal);
                var to = line.IndexOf(" to ", StringComparison.Ordinal);
                if (colon < 0 || to < 0) return;
                var number = line["starting delivery ".Length..colon];
                var rest = line[(to + 4)..];
                var space = rest.IndexOf(' ');
                if (space < 0) return;
                var recipient = rest[(space + 1)..];
                var domain = recipient.LastIndexOf('@') is var a and >= 0 ? recipient[(a + 1)..].ToLowerInvariant() : recipient;
                _destinationOf[number] = $"{rest[..space]} {domain}";
            }
            else if (line.StartsWith("delivery ", StringComparison.Ordinal))
            {
                // delivery N: deferral: Connected_to_..._(#4.4.2)/
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                if (colon < 0 || !_destinationOf.Remove(line["delivery ".Length..colon], out var destination)) return;
                var result = line[(colon + 2)..];
                var kindEnd = result.IndexOf(':');
                var kind = kindEnd < 0 ? result : result[..kindEnd];
                var text = kindEnd < 0 ? "" : result[(kindEnd + 1)..].TrimStart();
                if (kind == "success") { _errors.Remove(destination); return; }
                if (kind is not ("deferral" or "failure")) return;
                var count = _errors.TryGetValue(destination, out var earlier) ? earlier.Errors + 1 : 1;
                _errors[destination] = new DestinationErrors(destination, count, at, kind, text);
            }
        }

        public List<DestinationErrors> Result() =>
            _errors.Values.OrderByDescending(e => e.LastAt ?? DateTimeOffset.MinValue).ThenBy(e => e.Destination, StringComparer.Ordinal).ToList();

        /// <summary>multilog t's "@" and 24 hex digits (TAI64N) and a space, taken off the line; null when there is none.</summary>
        private static DateTimeOffset? Stamp(ref string line)
        {
            if (line.Length < 26 || line[0] != '@' || line[25] != ' ') return null;
            if (!ulong.TryParse(line.AsSpan(1, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var label)) return null;
            line = line[26..];
            // TAI64: 2^62 + 10 is 1970-01-01 00:00:00 UTC (leap seconds since then aside, as tai64nlocal does)
            const ulong Epoch = 0x400000000000000aUL;
            return label < Epoch ? null : DateTimeOffset.FromUnixTimeSeconds((long)Math.Min(label - Epoch, 253402300799UL));
        }
    }

    /// <summary>The report's lines: a destination a line, at most <paramref name="max"/>.</summary>
    public static void Write(TextWriter o, IReadOnlyList<DestinationErrors> errors, string logDir, int max = 20)
    {
        if (errors.Count == 0) { o.WriteLine($"delivery errors: none in {logDir}"); return; }
        o.WriteLine($"delivery errors (last per destination, from {logDir}):");
        foreach (var e in errors.Take(max))
        {
            var when = e.LastAt is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "(no time)";
            o.WriteLine($"  {e.Destination}: {e.Errors} since its last success; last {e.LastKind} at {when}: {e.LastText}");
        }
        if (errors.Count > max) o.WriteLine($"  ... and {errors.Count - max} more");
    }
}
