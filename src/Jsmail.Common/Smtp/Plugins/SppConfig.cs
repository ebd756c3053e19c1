using System.Text;
using Jsmail.Common.Control;

namespace Jsmail.Common.Smtp.Plugins;

/// <summary>The events of qmail-spp, one section of control/smtpplugins each.</summary>
public enum SppSection { Connection, Helo, Mail, Rcpt, Data, Auth }

/// <summary>
/// control/smtpplugins as qmail-spp 0.42 reads it (plugin-protocols.md §1.1):
/// qmail's control-file lines; a line starting with '[' opens the section its
/// second byte names (c, h, m, r, d, a; any other letter a section that is
/// ignored); every other line is one plugin, in order. Lines before the first
/// section header belong to none.
/// </summary>
public sealed class SppConfig
{
    public const string DefaultFile = "control/smtpplugins";
    /// <summary>control/timeoutsmtpplugin: seconds one plugin run may take (qmail-spp has no limit).</summary>
    public const string TimeoutFile = "timeoutsmtpplugin";
    public const int DefaultTimeoutSeconds = 60;

    private readonly List<byte[]>[] _sections;

    private SppConfig(List<byte[]>[] sections, int timeoutSeconds)
    {
        _sections = sections;
        TimeoutSeconds = timeoutSeconds;
    }

    public int TimeoutSeconds { get; }

    /// <summary>The plugin lines of a section, in the order they run.</summary>
    public IReadOnlyList<byte[]> Plugins(SppSection section) => _sections[(int)section];

    public bool IsEmpty => Array.TrueForAll(_sections, s => s.Count == 0);

    /// <param name="lines">the file's lines as <see cref="ControlParse.List"/> gives them</param>
    public static SppConfig Parse(IReadOnlyList<byte[]> lines, int timeoutSeconds = DefaultTimeoutSeconds)
    {
        var sections = new List<byte[]>[6];
        for (var i = 0; i < sections.Length; i++) sections[i] = [];
        List<byte[]>? current = null;
        foreach (var line in lines)
        {
            if (line.Length > 0 && line[0] == (byte)'[')
            {
                current = (line.Length > 1 ? line[1] : (byte)0) switch
                {
                    (byte)'c' => sections[(int)SppSection.Connection],
                    (byte)'h' => sections[(int)SppSection.Helo],
                    (byte)'m' => sections[(int)SppSection.Mail],
                    (byte)'r' => sections[(int)SppSection.Rcpt],
                    (byte)'d' => sections[(int)SppSection.Data],
                    (byte)'a' => sections[(int)SppSection.Auth],
                    _ => null,
                };
                continue;
            }
            current?.Add(line);
        }
        return new SppConfig(sections, timeoutSeconds);
    }

    /// <summary>
    /// The plugins for a session whose environment has NOSPP and SPPCONFFILE
    /// as given; null when qmail-spp is off (NOSPP set) or has nothing to run.
    /// A file named by SPPCONFFILE that is missing throws
    /// <see cref="ControlMissingException"/> (qmail-spp's 421); the default
    /// file missing means no plugins, since a site that never had qmail-spp has none.
    /// </summary>
    public static SppConfig? Load(ControlReader controls, byte[]? noSpp, byte[]? confFile)
    {
        if (noSpp != null) return null;
        var named = confFile is { Length: > 0 };
        var path = named ? Encoding.UTF8.GetString(confFile!) : DefaultFile;
        var lines = controls.ReadFileListIfPresent(path);
        if (lines == null) return named ? throw new ControlMissingException(path) : null;
        var timeout = (int)Math.Min(controls.ReadInt(TimeoutFile, DefaultTimeoutSeconds), int.MaxValue / 1000);
        var config = Parse(lines, timeout <= 0 ? DefaultTimeoutSeconds : timeout);
        return config.IsEmpty ? null : config;
    }
}
