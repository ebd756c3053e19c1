using System.Text;

namespace Jsmail.Common.Envelope;

/// <summary>
/// How a delivery's ESMTP parameters reach the remote delivery program in its
/// environment (docs/jsmail-remote.md): <c>JSMAIL_MAIL_PARAMETERS</c> holds the
/// MAIL FROM parameters, <c>JSMAIL_RCPT_PARAMETERS_&lt;i&gt;</c> those of the
/// i-th recipient argument (0-based), each as <c>KEYWORD[=value]</c> words
/// separated by single spaces. jsmail-rspawn formats them, jsmail-remote parses
/// them. A parameter that could not travel as one word (a value with a space,
/// CR, LF, NUL or another control byte; a keyword that is not an esmtp-keyword)
/// is dropped on both sides rather than passed on.
/// </summary>
public static class ParameterWords
{
    public const string MailVariable = "JSMAIL_MAIL_PARAMETERS";
    public const string RcptVariablePrefix = "JSMAIL_RCPT_PARAMETERS_";

    /// <summary>The words for <paramref name="parameters"/>, empty when none can travel.</summary>
    public static byte[] Format(IEnumerable<EsmtpParameter> parameters)
    {
        var o = new List<byte>();
        foreach (var p in parameters)
        {
            if (EnvelopeExtensionCodec.Check(p.Keyword, p.Value ?? default, p.Value != null) != null) continue;
            if (o.Count > 0) o.Add((byte)' ');
            o.AddRange(Encoding.ASCII.GetBytes(p.Keyword));
            if (p.Value != null) { o.Add((byte)'='); o.AddRange(p.Value); }
        }
        return o.ToArray();
    }

    /// <summary>An environment entry <c>NAME=words</c>, or null when no parameter can travel.</summary>
    public static byte[]? Entry(string name, IEnumerable<EsmtpParameter> parameters)
    {
        var words = Format(parameters);
        return words.Length == 0 ? null : [.. Encoding.ASCII.GetBytes(name + "="), .. words];
    }

    /// <summary>Space-separated <c>KEYWORD[=value]</c> words; malformed ones and repeated keywords dropped.</summary>
    public static List<EsmtpParameter> Parse(string? text)
    {
        var list = new List<EsmtpParameter>();
        if (string.IsNullOrEmpty(text)) return list;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = word.IndexOf('=');
            var keyword = eq < 0 ? word : word[..eq];
            var value = eq < 0 ? null : Encoding.UTF8.GetBytes(word[(eq + 1)..]);
            if (EnvelopeExtensionCodec.Check(keyword, value ?? default, value != null) != null) continue;
            if (EnvelopeExtension.Find(list, keyword) != null) continue;
            list.Add(new EsmtpParameter(keyword, value));
        }
        return list;
    }
}
