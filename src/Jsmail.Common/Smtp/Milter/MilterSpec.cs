using System.Text;

namespace Jsmail.Common.Smtp.Milter;

/// <summary>What happens when a milter cannot be reached, times out or breaks the protocol.</summary>
public enum MilterDefault { Tempfail, Accept }

/// <summary>
/// One line of control/milters: the socket in Postfix's syntax (<c>unix:/path</c>,
/// <c>inet:host:port</c>, <c>inet:[ipv6]:port</c>), then optional <c>name=value</c>
/// words with Postfix's names: connect_timeout, command_timeout,
/// content_timeout (seconds, an optional trailing s) and default_action
/// (tempfail or accept). Postfix's defaults: 30 s, 30 s, 300 s; tempfail.
/// </summary>
public sealed record MilterSpec(string Socket, string? UnixPath, string? Host, int Port)
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ContentTimeout { get; init; } = TimeSpan.FromSeconds(300);
    public MilterDefault DefaultAction { get; init; } = MilterDefault.Tempfail;

    public const string ControlFile = "milters";

    /// <summary>control/milters; a line that is not a milter's makes the file unreadable (EINVAL), as a broken control is.</summary>
    public static List<MilterSpec> Read(Control.ControlReader controls)
    {
        try { return ParseAll(controls.ReadList(ControlFile)); }
        catch (FormatException) { throw new Control.ControlReadException(ControlFile, 22); }
    }

    /// <summary>The milters of control/milters, in order; a line it cannot read is an error naming it.</summary>
    public static List<MilterSpec> ParseAll(IEnumerable<byte[]> lines)
    {
        var list = new List<MilterSpec>();
        foreach (var raw in lines)
        {
            var line = Encoding.UTF8.GetString(raw).Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            list.Add(Parse(line) ?? throw new FormatException($"control/{ControlFile}: cannot read \"{line}\""));
        }
        return list;
    }

    /// <summary>One line, or null when it is not a milter's.</summary>
    public static MilterSpec? Parse(string line)
    {
        var words = line.Replace('{', ' ').Replace('}', ' ').Replace(',', ' ')
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || ParseSocket(words[0]) is not { } spec) return null;
        foreach (var word in words.AsSpan(1))
        {
            var eq = word.IndexOf('=');
            if (eq <= 0) return null;
            var (name, value) = (word[..eq], word[(eq + 1)..]);
            spec = name switch
            {
                "connect_timeout" when Seconds(value) is { } t => spec with { ConnectTimeout = t },
                "command_timeout" when Seconds(value) is { } t => spec with { CommandTimeout = t },
                "content_timeout" when Seconds(value) is { } t => spec with { ContentTimeout = t },
                "default_action" when value == "tempfail" => spec with { DefaultAction = MilterDefault.Tempfail },
                "default_action" when value == "accept" => spec with { DefaultAction = MilterDefault.Accept },
                _ => null,
            };
            if (spec == null) return null;
        }
        return spec;
    }

    private static MilterSpec? ParseSocket(string s)
    {
        if (s.StartsWith("unix:", StringComparison.Ordinal) && s.Length > 5) return new MilterSpec(s, s[5..], null, 0);
        if (!s.StartsWith("inet:", StringComparison.Ordinal)) return null;
        var rest = s[5..];
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out var port) || port is < 1 or > 65535) return null;
        var host = rest[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return host.Length == 0 ? null : new MilterSpec(s, null, host, port);
    }

    private static TimeSpan? Seconds(string value)
    {
        if (value.EndsWith('s')) value = value[..^1];
        return int.TryParse(value, out var n) && n > 0 ? TimeSpan.FromSeconds(n) : null;
    }
}
