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
public sealed record MilterSpec(FilterEndpoint Endpoint)
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ContentTimeout { get; init; } = TimeSpan.FromSeconds(300);
    public MilterDefault DefaultAction { get; init; } = MilterDefault.Tempfail;

    public const string ControlFile = "milters";

    /// <summary>control/milters; a line that is not a milter's makes the file unreadable (EINVAL), as a broken control is.</summary>
    /// <param name="home">what a relative unix: path is relative to</param>
    public static List<MilterSpec> Read(Control.ControlReader controls, string home)
    {
        try { return ParseAll(controls.ReadList(ControlFile), home); }
        catch (FormatException) { throw new Control.ControlReadException(ControlFile, 22); }
    }

    /// <summary>The milters of control/milters, in order; a line it cannot read is an error naming it.</summary>
    public static List<MilterSpec> ParseAll(IEnumerable<byte[]> lines, string home)
    {
        var list = new List<MilterSpec>();
        foreach (var raw in lines)
        {
            var line = Encoding.UTF8.GetString(raw).Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            list.Add(Parse(line, home) ?? throw new FormatException($"control/{ControlFile}: cannot read \"{line}\""));
        }
        return list;
    }

    /// <summary>One line, or null when it is not a milter's.</summary>
    public static MilterSpec? Parse(string line, string home)
    {
        var words = line.Replace('{', ' ').Replace('}', ' ').Replace(',', ' ')
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || FilterEndpoint.Parse(words[0], home) is not { } endpoint) return null;
        MilterSpec? spec = new MilterSpec(endpoint);
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

    private static TimeSpan? Seconds(string value)
    {
        if (value.EndsWith('s')) value = value[..^1];
        return int.TryParse(value, out var n) && n > 0 ? TimeSpan.FromSeconds(n) : null;
    }
}
