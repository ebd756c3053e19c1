using System.Text;
using Jsmail.Common.Smtp;

namespace Jsmail.Smtpd.Tests;

public sealed class ParserTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);

    [Theory]
    [InlineData("MAIL FROM:<a@b>", "MAIL", "FROM:<a@b>", SmtpVerb.Mail)]
    [InlineData("mail    from:<a@b>\r", "mail", "from:<a@b>", SmtpVerb.Mail)]
    [InlineData("QUIT", "QUIT", "", SmtpVerb.Quit)]
    [InlineData("quit\r", "quit", "", SmtpVerb.Quit)]
    [InlineData("ehlo  x y", "ehlo", "x y", SmtpVerb.Ehlo)]
    [InlineData("MAILX FROM", "MAILX", "FROM", SmtpVerb.Unknown)]
    [InlineData(" MAIL", "", "MAIL", SmtpVerb.Unknown)]
    [InlineData("StartTLS", "StartTLS", "", SmtpVerb.Starttls)]
    [InlineData("", "", "", SmtpVerb.Unknown)]
    public void Command_split_as_qmail_does(string line, string verb, string arg, SmtpVerb kind)
    {
        var c = SmtpCommand.Parse(B(line));
        S(c.Verb).Should().Be(verb);
        S(c.Argument).Should().Be(arg);
        c.Kind.Should().Be(kind);
    }

    [Theory]
    [InlineData("a\0b", SmtpLineFault.Nul)]
    [InlineData("a\rb", SmtpLineFault.BareCr)]
    [InlineData("ab\r", SmtpLineFault.None)]
    [InlineData("a\r\r", SmtpLineFault.BareCr)]
    [InlineData("\u00e9", SmtpLineFault.EightBit)]
    public void Line_faults(string line, SmtpLineFault fault) =>
        SmtpCommand.Check(B(line), allowEightBit: false).Should().Be(fault);

    [Theory]
    [InlineData("FROM:<a@b>", "a@b", true)]
    [InlineData("FROM:<>", "", true)]
    [InlineData("FROM: <a@b> SIZE=10", "a@b", true)]
    [InlineData("FROM:a@b SIZE=10", "a@b", true)]
    [InlineData("FROM:   a@b", "a@b", true)]
    [InlineData("FROM:<@r1,@r2:a@b>", "a@b", true)]
    [InlineData("FROM:<@r1>", "", false)]
    [InlineData("FROM:<\"a b\"@c>", "a b@c", true)]
    [InlineData("FROM:<\"a>b\"@c>", "a>b@c", true)]
    [InlineData("FROM:<a\\>b@c>", "a>b@c", true)]
    [InlineData("FROM:<a@b", "a@b", false)]
    [InlineData("TO:<x<y>", "x<y", true)]
    [InlineData("junk", "", true)]
    public void Paths_as_qmail_reads_them(string arg, string address, bool terminated)
    {
        var p = SmtpPath.Parse(B(arg));
        S(p.Address).Should().Be(address);
        p.Terminated.Should().Be(terminated);
    }

    [Fact]
    public void Parameters_start_after_the_path()
    {
        var arg = B("FROM:<a@b> SIZE=10 BODY=8BITMIME");
        S(arg.AsSpan(SmtpPath.Parse(arg).ParametersStart)).Should().Be(" SIZE=10 BODY=8BITMIME");
    }

    [Theory]
    [InlineData("a@[127.0.0.1]", 0x7f000001u)]
    [InlineData("a@[0.0.0.0]", 0u)]
    [InlineData("a@[1.2.3.256]", null)]
    [InlineData("a@[1.2.3]", null)]
    [InlineData("a@[1.2.3.4]x", null)]
    [InlineData("a@b", null)]
    public void Ip_literals(string address, uint? ip) =>
        SmtpPath.TrailingIpLiteral(B(address), out _).Should().Be(ip);

    [Theory]
    [InlineData(" SIZE=100", EsmtpParameterFault.None)]
    [InlineData(" size=100 body=8bitmime", EsmtpParameterFault.None)]
    [InlineData(" BODY=7BIT RET=FULL ENVID=x+2By", EsmtpParameterFault.None)]
    [InlineData(" SMTPUTF8", EsmtpParameterFault.None)]
    [InlineData(" SIZE=", EsmtpParameterFault.BadValue)]
    [InlineData(" SIZE=1x", EsmtpParameterFault.BadValue)]
    [InlineData(" SIZE=123456789012345678901", EsmtpParameterFault.BadValue)]
    [InlineData(" SIZE", EsmtpParameterFault.BadValue)]
    [InlineData(" BODY=BINARYMIME", EsmtpParameterFault.BadValue)]
    [InlineData(" SMTPUTF8=yes", EsmtpParameterFault.BadValue)]
    [InlineData(" RET=ALL", EsmtpParameterFault.BadValue)]
    [InlineData(" ENVID=a+2b", EsmtpParameterFault.BadValue)]
    [InlineData(" ENVID=a+", EsmtpParameterFault.BadValue)]
    [InlineData(" NOTIFY=NEVER", EsmtpParameterFault.Unknown)]
    [InlineData(" FOO=1", EsmtpParameterFault.Unknown)]
    [InlineData(" SIZE=1 SIZE=2", EsmtpParameterFault.Duplicate)]
    [InlineData(" =1", EsmtpParameterFault.Syntax)]
    [InlineData(" SI_ZE=1", EsmtpParameterFault.Syntax)]
    [InlineData(" SIZE=1=2", EsmtpParameterFault.Syntax)]
    [InlineData(" ENVID=a\u0001", EsmtpParameterFault.Syntax)]
    public void Mail_parameters(string text, EsmtpParameterFault fault) =>
        EsmtpParameters.ParseMail(B(text), EsmtpFeatures.Size | EsmtpFeatures.EightBitMime | EsmtpFeatures.SmtpUtf8 | EsmtpFeatures.Dsn, out _)
            .Should().Be(fault);

    [Fact]
    public void Switched_off_extensions_have_no_parameters() =>
        EsmtpParameters.ParseMail(B(" SIZE=1"), EsmtpFeatures.EightBitMime, out _).Should().Be(EsmtpParameterFault.Unknown);

    [Theory]
    [InlineData(" NOTIFY=SUCCESS,FAILURE,DELAY", EsmtpParameterFault.None)]
    [InlineData(" NOTIFY=never", EsmtpParameterFault.None)]
    [InlineData(" NOTIFY=NEVER,SUCCESS", EsmtpParameterFault.BadValue)]
    [InlineData(" NOTIFY=SUCCESS,SUCCESS", EsmtpParameterFault.BadValue)]
    [InlineData(" NOTIFY=", EsmtpParameterFault.BadValue)]
    [InlineData(" ORCPT=rfc822;a@b", EsmtpParameterFault.None)]
    [InlineData(" ORCPT=rfc822;a+40b", EsmtpParameterFault.None)]
    [InlineData(" ORCPT=rfc822", EsmtpParameterFault.BadValue)]
    [InlineData(" ORCPT=;a@b", EsmtpParameterFault.BadValue)]
    [InlineData(" ORCPT=rfc822;", EsmtpParameterFault.BadValue)]
    [InlineData(" SIZE=1", EsmtpParameterFault.Unknown)]
    public void Rcpt_parameters(string text, EsmtpParameterFault fault) =>
        EsmtpParameters.ParseRcpt(B(text), EsmtpFeatures.Dsn, false, out _).Should().Be(fault);

    public static TheoryData<string, string, SmtpDataStatus> DataCases => new()
    {
        { ".\r\n", "", SmtpDataStatus.End },
        { "a\r\n.\r\n", "a\n", SmtpDataStatus.End },
        { "..a\r\n.b\r\n.\r\n", ".a\nb\n", SmtpDataStatus.End },
        { "a\r\n..\r\n.\r\n", "a\n.\n", SmtpDataStatus.End },
        { "a\n.\n", "a", SmtpDataStatus.BareLf },
        { "a\r\n.\n", "a\n", SmtpDataStatus.BareLf },
        { "a\n.\r\n", "a", SmtpDataStatus.BareLf },
        { "a\r.\r", "a", SmtpDataStatus.BareCr },
        { "a\r\n.\rb", "a\n", SmtpDataStatus.BareCr },
        { "a\rb\r\n.\r\n", "a", SmtpDataStatus.BareCr },
        { "\n", "", SmtpDataStatus.BareLf },
        { "a\r\n", "a\n", SmtpDataStatus.More },
    };

    [Theory]
    [MemberData(nameof(DataCases))]
    public void Data_decoding_in_every_chunking(string input, string output, SmtpDataStatus status)
    {
        var bytes = B(input);
        foreach (var chunk in new[] { 1, 2, 3, bytes.Length })
        {
            var d = new SmtpDataDecoder(allowBareCr: false);
            var o = new List<byte>();
            var last = SmtpDataStatus.More;
            for (var pos = 0; pos < bytes.Length && last == SmtpDataStatus.More;)
            {
                var piece = bytes.AsSpan(pos, Math.Min(chunk, bytes.Length - pos));
                var buf = new byte[SmtpDataDecoder.MaxOutput(piece.Length)];
                last = d.Decode(piece, buf, out var used, out var written);
                o.AddRange(buf[..written]);
                pos += used;
            }
            last.Should().Be(status, $"chunk {chunk}");
            S(o.ToArray()).Should().Be(output, $"chunk {chunk}");
        }
    }

    [Theory]
    [InlineData("a\r.\r\n.\r\n", "a\r.\n")]
    [InlineData("a\r\r\n.\r\n", "a\r\n")]
    [InlineData(".\r.\r\n.\r\n", ".\r.\n")]
    [InlineData("\r\r\r\n.\r\n", "\r\r\n")]
    public void Bare_cr_kept_as_qmail_keeps_it(string input, string output)
    {
        var d = new SmtpDataDecoder(allowBareCr: true);
        var buf = new byte[64];
        d.Decode(B(input), buf, out var used, out var written).Should().Be(SmtpDataStatus.End);
        used.Should().Be(input.Length);
        S(buf.AsSpan(0, written)).Should().Be(output);
    }

    [Theory]
    [InlineData("Received: a\nDelivered-To: b\nreceivedx\nX-Received: c\n\nReceived: body\n", 3)]
    [InlineData("RECEIVED\nrecei\nDELIVERED\n", 2)]
    [InlineData("\nReceived: x\n", 0)]
    public void Hops_counted_in_the_header_only(string message, int hops)
    {
        var c = new SmtpHopCounter();
        foreach (var b in B(message)) c.Feed([b]);
        c.Hops.Should().Be(hops);
    }

    [Fact]
    public void Received_line_keeps_only_safe_bytes()
    {
        var line = SmtpReceived.Build(B("h\r\nost"), B("he lo"), B("in\0fo"), B("1.2.3.4"), B("[mx]"), "SMTP", 0);
        S(line).Should().Be("Received: from h??ost (HELO he?lo) (in?fo@1.2.3.4)\n  by [mx] with SMTP; 1 Jan 1970 00:00:00 -0000\n");
    }

    [Theory]
    [InlineData(SmtpReplyId.NotInRcpthosts, true, "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n")]
    [InlineData(SmtpReplyId.NotInRcpthosts, false, "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n")]
    [InlineData(SmtpReplyId.GoAhead, true, "354 go ahead\r\n")]
    [InlineData(SmtpReplyId.RcptOk, true, "250 2.1.5 ok\r\n")]
    [InlineData(SmtpReplyId.Smtplf, true, "451 4.6.0 See https://cr.yp.to/docs/smtplf.html.\r\n")]
    public void Replies_from_the_table(SmtpReplyId id, bool enhanced, string text)
    {
        var o = new List<byte>();
        SmtpReplies.Append(o, id, enhanced);
        S(o.ToArray()).Should().Be(text);
    }

    [Fact]
    public void Every_reply_has_a_consistent_enhanced_code()
    {
        foreach (var id in Enum.GetValues<SmtpReplyId>())
        {
            var r = SmtpReplies.Of(id);
            if (r.Code == 354) continue;
            var code = SmtpReplies.EnhancedFor(r.Code, r.Enhanced, B(r.Text));
            code[0].Should().Be((char)('0' + r.Code / 100), id.ToString());
            if (SmtpReplies.FromText(B(r.Text)) is { } inText) code.Should().Be(inText, id.ToString());
        }
    }

    [Fact]
    public void A_filters_own_enhanced_code_is_not_doubled()
    {
        var o = new List<byte>();
        SmtpReplies.Append(o, 554, "5.3.0", B("5.7.1 virus found"), true);
        S(o.ToArray()).Should().Be("554 5.7.1 virus found\r\n");
    }
}
