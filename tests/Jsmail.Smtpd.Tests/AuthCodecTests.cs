using System.Text;
using Jsmail.Common.Smtp;

namespace Jsmail.Smtpd.Tests;

public sealed class AuthCodecTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(byte[] b) => Encoding.Latin1.GetString(b);

    [Theory]
    [InlineData("YWxpY2U=", true, "alice")]
    [InlineData("YWxpY2Ux", true, "alice1")]
    [InlineData("YWxpYw==", true, "alic")]
    [InlineData("", true, "")]
    [InlineData("YWxpY2U", false, "")]
    [InlineData("YWxp Y2U=", false, "")]
    [InlineData("YWxpY2U=\r", false, "")]
    [InlineData("YW=pY2U=", false, "")]
    [InlineData("====", false, "")]
    [InlineData("YWxpY2U===", false, "")]
    [InlineData("YWxp-2U=", false, "")]
    [InlineData("YWxp_2U=", false, "")]
    [InlineData("\u00e9\u00e9\u00e9\u00e9", false, "")]
    public void Base64_is_strict(string text, bool ok, string decoded)
    {
        SmtpAuthCodec.DecodeBase64(B(text), out var d).Should().Be(ok);
        S(d).Should().Be(decoded);
    }

    [Theory]
    [InlineData("*", false, SmtpAuthFault.Cancelled, "")]
    [InlineData("=", true, SmtpAuthFault.None, "")]
    [InlineData("=", false, SmtpAuthFault.BadBase64, "")]
    [InlineData("AGEAYg==", false, SmtpAuthFault.None, "\0a\0b")]
    [InlineData("**", false, SmtpAuthFault.BadBase64, "")]
    public void Responses(string line, bool initial, SmtpAuthFault fault, string decoded)
    {
        SmtpAuthCodec.DecodeResponse(B(line), initial, out var d).Should().Be(fault);
        S(d).Should().Be(decoded);
    }

    [Theory]
    [InlineData("\0alice\0pw", SmtpAuthFault.None, "alice", "pw")]
    [InlineData("alice\0alice\0pw", SmtpAuthFault.None, "alice", "pw")]
    [InlineData("\0alice\0", SmtpAuthFault.None, "alice", "")]
    [InlineData("\0alice\0p\0w", SmtpAuthFault.None, "alice", "p\0w")]
    [InlineData("bob\0alice\0pw", SmtpAuthFault.BadCredentials, "", "")]
    [InlineData("\0alice", SmtpAuthFault.BadCredentials, "", "")]
    [InlineData("alice", SmtpAuthFault.BadCredentials, "", "")]
    [InlineData("", SmtpAuthFault.BadCredentials, "", "")]
    public void Plain_messages(string message, SmtpAuthFault fault, string user, string password)
    {
        SmtpAuthCodec.SplitPlain(B(message), out var u, out var p).Should().Be(fault);
        S(u).Should().Be(user);
        S(p).Should().Be(password);
    }

    [Theory]
    [InlineData("alice", "pw", true)]
    [InlineData("alice", "", true)]
    [InlineData("alice", "p w\r\n", true)]
    [InlineData("", "pw", false)]
    [InlineData("al\0ice", "pw", false)]
    [InlineData("al\rice", "pw", false)]
    [InlineData("al\nice", "pw", false)]
    [InlineData("alice", "p\0w", false)]
    public void Only_framing_safe_credentials_reach_checkpassword(string user, string password, bool ok)
    {
        SmtpAuthCodec.Acceptable(B(user), B(password), B("<1.2@h>")).Should().Be(ok);
    }

    [Fact]
    public void Checkpassword_input_stays_within_512_bytes()
    {
        var ts = B("<12345.1700000000@mx.example>");
        var room = 512 - ts.Length - 3 - 5;
        SmtpAuthCodec.Acceptable(B("alice"), B(new string('p', room)), ts).Should().BeTrue();
        SmtpAuthCodec.Acceptable(B("alice"), B(new string('p', room + 1)), ts).Should().BeFalse();
        S(SmtpAuthCodec.CheckpasswordInput(B("alice"), B("pw"), ts)).Should().Be("alice\0pw\0<12345.1700000000@mx.example>\0");
    }

    [Theory]
    [InlineData(" AUTH=<>", EsmtpParameterFault.None, " ", "<>")]
    [InlineData(" SIZE=10 auth=a+2Bb BODY=8BITMIME", EsmtpParameterFault.None, " SIZE=10  BODY=8BITMIME", "a+2Bb")]
    [InlineData(" SIZE=10", EsmtpParameterFault.None, " SIZE=10", null)]
    [InlineData(" AUTH=a AUTH=b", EsmtpParameterFault.Duplicate, "  ", "b")]
    [InlineData(" AUTH=a=b", EsmtpParameterFault.BadValue, " ", "a=b")]
    [InlineData(" AUTH=", EsmtpParameterFault.BadValue, " ", "")]
    [InlineData(" AUTHX=a", EsmtpParameterFault.None, " AUTHX=a", null)]
    public void Mail_auth_parameter_is_taken_out(string text, EsmtpParameterFault fault, string rest, string? value)
    {
        SmtpAuthCodec.TakeMailAuth(B(text), out var r, out var v).Should().Be(fault);
        S(r).Should().Be(rest);
        (v == null ? null : S(v)).Should().Be(value);
    }
}
