using System.Text;
using Jsmail.Common.Envelope;

namespace Jsmail.Remote;

/// <summary>
/// The envelope extension's parameters for this delivery (docs/envelope.md),
/// as jsmail-remote receives them: <c>JSMAIL_MAIL_PARAMETERS</c> holds the
/// MAIL FROM parameters and <c>JSMAIL_RCPT_PARAMETERS_&lt;i&gt;</c> those of
/// the i-th recipient argument (0-based), each as <c>KEYWORD[=value]</c>
/// words separated by spaces (a value never holds a space). Words that are
/// not well formed are ignored. Only what a peer can be given is used:
/// SMTPUTF8, RET and ENVID on MAIL; NOTIFY and ORCPT on RCPT.
/// </summary>
internal sealed record DeliveryParameters(IReadOnlyList<EsmtpParameter> Mail, IReadOnlyList<IReadOnlyList<EsmtpParameter>> Rcpt)
{
    public const string MailVariable = "JSMAIL_MAIL_PARAMETERS";
    public const string RcptVariablePrefix = "JSMAIL_RCPT_PARAMETERS_";

    public static DeliveryParameters FromEnvironment(int recipients) =>
        new(Parse(Environment.GetEnvironmentVariable(MailVariable)),
            Enumerable.Range(0, recipients)
                .Select(i => (IReadOnlyList<EsmtpParameter>)Parse(Environment.GetEnvironmentVariable(RcptVariablePrefix + i)))
                .ToList());

    public static DeliveryParameters Empty(int recipients) =>
        new([], Enumerable.Range(0, recipients).Select(_ => (IReadOnlyList<EsmtpParameter>)[]).ToList());

    /// <summary>Space-separated <c>KEYWORD[=value]</c> words; malformed ones dropped.</summary>
    public static List<EsmtpParameter> Parse(string? text)
    {
        var list = new List<EsmtpParameter>();
        if (string.IsNullOrEmpty(text)) return list;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = word.IndexOf('=');
            var keyword = eq < 0 ? word : word[..eq];
            var value = eq < 0 ? null : Encoding.UTF8.GetBytes(word[(eq + 1)..]);
            if (!IsKeyword(keyword) || (value != null && !IsValue(value))) continue;
            if (EnvelopeExtension.Find(list, keyword) != null) continue;
            list.Add(new EsmtpParameter(keyword, value));
        }
        return list;
    }

    private static bool IsKeyword(string k) =>
        k.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(k[0]) && k.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static bool IsValue(byte[] v) => v.Length <= 1002 && v.All(b => b is >= 33 and <= 126 or >= 128);

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
}
