using Jsmail.Common.Control;
using Jsmail.Common.Spawn;

namespace Jsmail.Send.Send;

/// <summary>
/// The control files jsmail-send reads at start (interfaces §2.2), and jsmail's
/// <c>remoterecipients</c>; HUP re-reads locals and virtualdomains only.
/// </summary>
public sealed class SendControls
{
    public long Lifetime { get; private init; }
    public int[] Concurrency { get; private init; } = [10, 20];
    /// <summary>The most recipients at one domain per remote delivery (1 under JSMAIL_COMPAT=qmail).</summary>
    public int RemoteRecipients { get; private init; } = 1;
    /// <summary>control/bounceformat: when a bounce is an RFC 3464 report (docs/jsmail-send.md); Qsbmf under JSMAIL_COMPAT=qmail.</summary>
    public BounceFormat BounceFormat { get; private init; } = BounceFormat.Qsbmf;
    /// <summary>control/delaywarningtime: seconds after arrival before a delay warning (0: none; always 0 under JSMAIL_COMPAT=qmail).</summary>
    public long DelayWarningTime { get; private init; }
    /// <summary>control/bouncemaxbytes: a failure report returns a message over this many bytes as its headers only (0: no limit).</summary>
    public int BounceMaxBytes { get; private init; }
    public byte[] BounceFrom { get; private init; } = [];
    public byte[] BounceHost { get; private init; } = [];
    public byte[] DoubleBounceTo { get; private init; } = [];
    public ControlSet Locals { get; set; } = new([]);
    public ControlMap VirtualDomains { get; set; } = new([]);

    /// <exception cref="ControlReadException">a control file could not be read</exception>
    /// <exception cref="ControlMissingException">locals and me are both missing</exception>
    public static SendControls Read(ControlReader c, bool compat)
    {
        var doubleBounceTo = c.ReadLine("doublebounceto", false, "postmaster"u8.ToArray());
        var doubleBounceHost = c.ReadLine("doublebouncehost", true, "doublebouncehost"u8.ToArray());
        c.ReadLine("envnoathost", true, "envnoathost"u8.ToArray()); // read as qmail-send does: its failure stops the start
        c.ReadList("percenthack");
        return new SendControls
        {
            Lifetime = c.ReadInt("queuelifetime", 604800),
            Concurrency = [(int)Math.Min(c.ReadInt("concurrencylocal", 10), 255), (int)Math.Min(c.ReadInt("concurrencyremote", 20), 255)],
            // Postfix's smtp_destination_recipient_limit; 0 means 1
            RemoteRecipients = compat ? 1 : (int)Math.Clamp(c.ReadInt("remoterecipients", 50), 1, GroupedDelivery.MaxRecipients),
            BounceFormat = compat ? BounceFormat.Qsbmf : ParseBounceFormat(c.ReadLine("bounceformat", false, "asked"u8.ToArray())),
            // Postfix's delay_warning_time (off by default there too) and bounce_size_limit (50000 bytes)
            DelayWarningTime = compat ? 0 : c.ReadInt("delaywarningtime", 0),
            BounceMaxBytes = compat ? 0 : (int)Math.Min(c.ReadInt("bouncemaxbytes", 50000), int.MaxValue),
            BounceFrom = c.ReadLine("bouncefrom", false, "MAILER-DAEMON"u8.ToArray()),
            BounceHost = c.ReadLine("bouncehost", true, "bouncehost"u8.ToArray()),
            DoubleBounceTo = [.. doubleBounceTo, (byte)'@', .. doubleBounceHost],
            Locals = new ControlSet(c.ReadLocals()),
            VirtualDomains = c.ReadMap("virtualdomains"),
        };
    }

    /// <summary><c>dsn</c>: reports for every sender; <c>qsbmf</c>: qmail's bounces only; anything else (<c>asked</c>, the default): reports for senders who asked with DSN parameters.</summary>
    private static BounceFormat ParseBounceFormat(byte[] line) =>
        System.Text.Encoding.ASCII.GetString(line).Trim().ToLowerInvariant() switch
        {
            "dsn" => BounceFormat.Dsn,
            "qsbmf" => BounceFormat.Qsbmf,
            _ => BounceFormat.Asked,
        };
}

/// <summary>Which failures become RFC 3464 reports, and whether success reports are made at all.</summary>
public enum BounceFormat { Qsbmf, Asked, Dsn }
