using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Send.Dsn;

/// <summary>RFC 3461's NOTIFY: which outcomes the sender wants reported for a recipient.</summary>
[Flags]
public enum Notify { None = 0, Success = 1, Failure = 2, Delay = 4, Never = 8 }

/// <summary>What one recipient asked for: NOTIFY (Given: it was in the envelope) and its ORCPT (xtext decoded, "type;address").</summary>
public sealed record RecipientRequest(Notify Notify, string? OriginalRecipient, bool Given = true)
{
    /// <summary>RFC 3461 §4.1: without NOTIFY, an MTA reports failures (and may report delays).</summary>
    public static readonly RecipientRequest Default = new(Notify.Failure, null, Given: false);

    public bool Wants(Notify outcome) => (Notify & outcome) != 0;

    /// <summary>
    /// Whether a delay warning names this recipient: NOTIFY=DELAY, or no
    /// NOTIFY at all (RFC 3461 §4.1 lets that mean FAILURE,DELAY, as Postfix
    /// takes it; warnings are on only where control/delaywarningtime says).
    /// </summary>
    public bool WantsDelay => Wants(Notify.Delay) || !Given;
}

/// <summary>
/// What a message's sender asked of delivery status notification (RFC 3461),
/// read from the parameters jsmail-todo kept in <c>rparam/</c> for every
/// recipient. Recipients are looked up by the address a bounce block names
/// (the channel address without its virtual-domain prefix). Pure.
/// </summary>
public sealed class DsnRequest
{
    private readonly Dictionary<string, RecipientRequest> _recipients = new(StringComparer.Ordinal);

    /// <summary>The sender gave RET, ENVID, NOTIFY or ORCPT: its reports are RFC 3464's, not QSBMF.</summary>
    public bool Asked { get; private init; }
    /// <summary>RET=HDRS, or REQUIRETLS: a failure report returns the headers only.</summary>
    public bool HeadersOnly { get; private init; }

    /// <summary>
    /// The message came with REQUIRETLS (RFC 8689 §5): its reports return its
    /// header section only, as if RET=HDRS (RET=FULL is disregarded), and ask
    /// REQUIRETLS of their own delivery. REQUIRETLS alone asks for no RFC 3464 report.
    /// </summary>
    public bool RequireTls { get; private init; }
    public string? EnvelopeId { get; private init; }

    public static readonly DsnRequest None = new();

    public RecipientRequest For(ReadOnlySpan<byte> address) =>
        _recipients.TryGetValue(Key(address), out var r) ? r : RecipientRequest.Default;

    /// <param name="parameters">the message's rparam/ file, or null when it has none</param>
    /// <param name="strip">the channel address as a bounce names it (BounceText.StripVirtualPrefix)</param>
    public static DsnRequest From(RemoteParameters? parameters, Func<byte[], byte[]> strip)
    {
        if (parameters == null) return None;
        var ext = parameters.Extension;
        var ret = EnvelopeExtension.Find(ext.Sender, "RET")?.ValueText;
        var envid = EnvelopeExtension.Find(ext.Sender, "ENVID")?.ValueText;
        var asked = ret != null || envid != null;
        var requireTls = EnvelopeExtension.Find(ext.Sender, "REQUIRETLS") != null;
        var request = new DsnRequest
        {
            HeadersOnly = requireTls || string.Equals(ret, "HDRS", StringComparison.OrdinalIgnoreCase),
            RequireTls = requireTls,
            EnvelopeId = envid == null ? null : XText.Decode(envid),
            Asked = asked || ext.Recipients.Values.Any(l =>
                EnvelopeExtension.Find(l, "NOTIFY") != null || EnvelopeExtension.Find(l, "ORCPT") != null),
        };
        for (var k = 0; k < parameters.Recipients.Count; k++)
        {
            var p = ext.ParametersOf(k);
            var notify = EnvelopeExtension.Find(p, "NOTIFY")?.ValueText;
            var orcpt = EnvelopeExtension.Find(p, "ORCPT")?.ValueText;
            var key = Key(strip(parameters.Recipients[k]));
            if (!request._recipients.ContainsKey(key)) // the first record of an address, as jsmail-rspawn takes it
                request._recipients[key] = new RecipientRequest(
                    notify == null ? Notify.Failure : ParseNotify(notify), orcpt == null ? null : XText.Decode(orcpt), Given: notify != null);
        }
        return request;
    }

    /// <summary>NOTIFY's value: NEVER, or a comma list of SUCCESS, FAILURE, DELAY (smtpd checked it).</summary>
    public static Notify ParseNotify(string value)
    {
        var n = Notify.None;
        foreach (var word in value.Split(','))
            n |= word.Trim().ToUpperInvariant() switch
            {
                "SUCCESS" => Notify.Success,
                "FAILURE" => Notify.Failure,
                "DELAY" => Notify.Delay,
                "NEVER" => Notify.Never,
                _ => Notify.None,
            };
        return (n & Notify.Never) != 0 ? Notify.Never : n;
    }

    private static string Key(ReadOnlySpan<byte> address) => Encoding.Latin1.GetString(address);
}

/// <summary>RFC 3461 §4's xtext: "+XX" is the byte of those two hex digits.</summary>
public static class XText
{
    public static string Decode(string xtext)
    {
        var o = new List<byte>(xtext.Length);
        var bytes = Encoding.UTF8.GetBytes(xtext);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '+' && i + 2 < bytes.Length && IsHex(bytes[i + 1]) && IsHex(bytes[i + 2]))
            {
                o.Add(Convert.ToByte(Encoding.ASCII.GetString(bytes, i + 1, 2), 16));
                i += 2;
            }
            else o.Add(bytes[i]);
        }
        // a report field is one line of printable text: a decoded control byte becomes a space
        for (var i = 0; i < o.Count; i++) if (o[i] < 32 || o[i] == 127) o[i] = (byte)' ';
        return Encoding.UTF8.GetString(o.ToArray());
    }

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'A' and <= (byte)'F' or >= (byte)'a' and <= (byte)'f';
}
