using System.Text;
using Jsmail.Common.Envelope;

namespace Jsmail.Common.Tests.Envelope;

public class ParameterWordsTests
{
    public static TheoryData<string[], string> Formats => new()
    {
        // KEY or KEY=value, in; the words out
        { [], "" },
        { ["RET=HDRS", "ENVID=QQ1"], "RET=HDRS ENVID=QQ1" },
        { ["SMTPUTF8", "KEY="], "SMTPUTF8 KEY=" },
        { ["ORCPT=rfc822;b@x.test"], "ORCPT=rfc822;b@x.test" },
        { ["ORCPT=utf-8;j\u00f6rg@x"], "ORCPT=utf-8;j\u00f6rg@x" },
        // never a CR, LF, NUL, space or control byte in the environment: such a parameter is dropped
        { ["A=x y", "B=ok"], "B=ok" },
        { ["A=x\ry", "B=x\ny", "C=x\0y", "D=x\u0001y", "E=\u007f", "F=ok"], "F=ok" },
        { ["-BAD=1", "SP ACE", "GOOD"], "GOOD" },
    };

    private static EsmtpParameter P(string word)
    {
        var eq = word.IndexOf('=');
        return eq < 0 ? new EsmtpParameter(word, null) : new EsmtpParameter(word[..eq], Encoding.UTF8.GetBytes(word[(eq + 1)..]));
    }

    [Theory, MemberData(nameof(Formats))]
    public void Formats_what_can_travel_as_one_word(string[] parameters, string expected)
    {
        var words = ParameterWords.Format(parameters.Select(P));
        Encoding.UTF8.GetString(words).Should().Be(expected);
        // what jsmail-remote reads back is what was formatted
        string.Join(" ", ParameterWords.Parse(Encoding.UTF8.GetString(words)).Select(p => p.Keyword + (p.ValueText is { } v ? "=" + v : "")))
            .Should().Be(expected);
    }

    [Fact]
    public void An_entry_only_when_something_can_travel()
    {
        ParameterWords.Entry(ParameterWords.MailVariable, [P("A=x y")]).Should().BeNull();
        ParameterWords.Entry(ParameterWords.MailVariable, []).Should().BeNull();
        Encoding.ASCII.GetString(ParameterWords.Entry(ParameterWords.RcptVariablePrefix + "0", [P("NOTIFY=NEVER")])!)
            .Should().Be("JSMAIL_RCPT_PARAMETERS_0=NOTIFY=NEVER");
    }
}
