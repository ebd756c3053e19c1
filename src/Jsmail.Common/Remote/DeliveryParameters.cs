using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;

namespace Jsmail.Common.Remote;

/// <summary>
/// The envelope extension's parameters for this delivery (docs/envelope.md),
/// as jsmail-rspawn passes them in the environment (<see cref="ParameterWords"/>:
/// <c>JSMAIL_MAIL_PARAMETERS</c>, <c>JSMAIL_RCPT_PARAMETERS_&lt;i&gt;</c> for the
/// i-th recipient argument). Only what a peer can be given is used:
/// SMTPUTF8, RET and ENVID on MAIL; NOTIFY and ORCPT on RCPT; and the MAIL
/// parameters a plugin took in, to a peer that offers their keyword.
/// </summary>
public sealed record DeliveryParameters(IReadOnlyList<EsmtpParameter> Mail, IReadOnlyList<IReadOnlyList<EsmtpParameter>> Rcpt)
{
    // Plain loops, not Enumerable.Range(..).Select(..): in this AOT program, a
    // LINQ chain over a value type makes the runtime resolve generic virtual
    // methods at run time, which cost more than the rest of this class per delivery.
    public static DeliveryParameters FromEnvironment(int recipients)
    {
        var rcpt = new List<IReadOnlyList<EsmtpParameter>>(recipients);
        for (var i = 0; i < recipients; i++)
            rcpt.Add(Parse(Libc.GetenvText(ParameterWords.RcptVariablePrefix + i)));
        return new(Parse(Libc.GetenvText(ParameterWords.MailVariable)), rcpt);
    }

    /// <summary>The same from environment entries (NAME=value) made for this delivery, as jsmail-rspawn's pool has them.</summary>
    public static DeliveryParameters FromEntries(IEnumerable<byte[]>? entries, int recipients)
    {
        var values = new Dictionary<string, string>();
        foreach (var e in entries ?? [])
        {
            var eq = Array.IndexOf(e, (byte)'=');
            if (eq > 0) values.TryAdd(Encoding.UTF8.GetString(e, 0, eq), Encoding.UTF8.GetString(e, eq + 1, e.Length - eq - 1));
        }
        var rcpt = new List<IReadOnlyList<EsmtpParameter>>(recipients);
        for (var i = 0; i < recipients; i++)
            rcpt.Add(Parse(values.GetValueOrDefault(ParameterWords.RcptVariablePrefix + i)));
        return new(Parse(values.GetValueOrDefault(ParameterWords.MailVariable)), rcpt);
    }

    public static DeliveryParameters Empty(int recipients)
    {
        var rcpt = new List<IReadOnlyList<EsmtpParameter>>(recipients);
        for (var i = 0; i < recipients; i++) rcpt.Add([]);
        return new([], rcpt);
    }

    public static List<EsmtpParameter> Parse(string? text) => ParameterWords.Parse(text);

    public bool Has(string keyword) => EnvelopeExtension.Find(Mail, keyword) != null;

    /// <summary>" KEY=value" for each of <paramref name="keywords"/> present, in that order.</summary>
    public static string Words(IEnumerable<EsmtpParameter> list, params string[] keywords)
    {
        var sb = new StringBuilder();
        foreach (var k in keywords)
            if (EnvelopeExtension.Find(list, k) is { } p)
                sb.Append(' ').Append(p.Keyword.ToUpperInvariant()).Append(p.ValueText is { } v ? "=" + v : "");
        return sb.ToString();
    }

    // What jsmail-smtpd takes in itself (EsmtpParameters.ParseMail), each sent on,
    // or not, by its own rule; any other MAIL parameter in an envelope came
    // through a native plugin, which registered it and checked its value.
    private static readonly HashSet<string> s_ownMailKeywords = new(StringComparer.OrdinalIgnoreCase)
        { "SIZE", "BODY", "SMTPUTF8", "REQUIRETLS", "RET", "ENVID", "AUTH" };

    /// <summary>
    /// " KEY=value" for each plugin's MAIL parameter whose keyword the peer
    /// offers in its EHLO reply: an extension the next hop also speaks
    /// (MT-PRIORITY, RFC 6710 §4.2) goes on, and a site's own parameter stops here.
    /// </summary>
    public static string OfferedPluginWords(IEnumerable<EsmtpParameter> list, IReadOnlyDictionary<string, string> offered)
    {
        var sb = new StringBuilder();
        foreach (var p in list)
        {
            var keyword = p.Keyword.ToUpperInvariant();
            if (s_ownMailKeywords.Contains(keyword) || !offered.ContainsKey(keyword)) continue;
            sb.Append(' ').Append(keyword).Append(p.ValueText is { } v ? "=" + v : "");
        }
        return sb.ToString();
    }
}
