using System.Text;
using Jsmail.Common.Smtp.Milter;
using P = Jsmail.Common.Smtp.Milter.MilterProtocol;

namespace Jsmail.Smtpd.Tests;

/// <summary>The milter client's pure parts: control lines, the packet codec, replies, and edits to a message.</summary>
public sealed class MilterUnitTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(byte[] b) => Encoding.Latin1.GetString(b);

    [Fact]
    public void Control_lines_take_postfixs_socket_syntax_and_settings()
    {
        var list = MilterSpec.ParseAll([B("# rspamd"), B("inet:127.0.0.1:11332"), B(""),
            B("unix:/run/opendkim/opendkim.sock connect_timeout=5s command_timeout=10 content_timeout=60 default_action=accept"),
            B("{ inet:[::1]:8891, default_action=tempfail }"), B("unix:run/rspamd.sock")], "/var/qmail");
        list.Should().HaveCount(4);
        list[0].Should().Match<MilterSpec>(m => m.Endpoint.Host == "127.0.0.1" && m.Endpoint.Port == 11332 && m.DefaultAction == MilterDefault.Tempfail
            && m.CommandTimeout == TimeSpan.FromSeconds(30) && m.ContentTimeout == TimeSpan.FromSeconds(300));
        list[1].Should().Match<MilterSpec>(m => m.Endpoint.UnixPath == "/run/opendkim/opendkim.sock" && m.ConnectTimeout == TimeSpan.FromSeconds(5)
            && m.CommandTimeout == TimeSpan.FromSeconds(10) && m.ContentTimeout == TimeSpan.FromSeconds(60) && m.DefaultAction == MilterDefault.Accept);
        list[2].Should().Match<MilterSpec>(m => m.Endpoint.Host == "::1" && m.Endpoint.Port == 8891);
        list[3].Endpoint.UnixPath.Should().Be("/var/qmail/run/rspamd.sock", "a relative path is relative to the home, as Postfix's to its queue directory");
        foreach (var bad in new[] { "tcp:1.2.3.4:5", "inet:host", "inet:h:99999", "unix:/x default_action=reject", "unix:/x timeout=3" })
            MilterSpec.Parse(bad, "/").Should().BeNull(bad);
        FluentActions.Invoking(() => MilterSpec.ParseAll([B("inet:nowhere")], "/")).Should().Throw<FormatException>();
    }

    [Fact]
    public void Packets_are_framed_with_a_length_that_counts_the_code()
    {
        var p = new MilterPacketBuilder(P.OptNeg).UInt32(6).UInt32(0x1ff).UInt32(0x10).Build();
        p.Encode().Should().Equal([0, 0, 0, 13, (byte)'O', 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0, 0, 0x10]);
        new MilterPacketBuilder(P.Header).String("To").String("a\0b").Build().Data.Should().Equal(B("To\0a b\0"));
        MilterPacket.FrameLength([0, 0, 0, 0]).Should().BeNull();
        MilterPacket.FrameLength([0x7f, 0, 0, 0]).Should().BeNull();
        new MilterPacket(P.AddHeader, B("X\0v\0")).Strings().Select(S).Should().Equal("X", "v");
        new MilterPacket(P.ChangeHeader, [0, 0, 0, 2, .. B("X\0")]).Strings(4).Select(S).Should().Equal("X");
    }

    [Fact]
    public void Replies_decide_or_wait_for_more_and_garbage_is_an_error()
    {
        MilterReplies.Decision(new(P.Continue, []), out var accepted)!.Verdict.Should().Be(MilterVerdict.Continue);
        accepted.Should().BeFalse();
        MilterReplies.Decision(new(P.Accept, []), out accepted)!.Verdict.Should().Be(MilterVerdict.Continue);
        accepted.Should().BeTrue();
        MilterReplies.Decision(new(P.Discard, []), out _)!.Verdict.Should().Be(MilterVerdict.Discard);
        MilterReplies.Decision(new(P.Shutdown, []), out _)!.Verdict.Should().Be(MilterVerdict.Shutdown);
        var custom = MilterReplies.Decision(new(P.ReplyCode, B("452 4.2.2 full\r\nsecond\0")), out _)!;
        custom.Verdict.Should().Be(MilterVerdict.Tempfail);
        S(custom.Reply!).Should().Be("452 4.2.2 full  second");
        MilterReplies.Decision(new(P.AddHeader, B("X\0y\0")), out _).Should().BeNull();
        FluentActions.Invoking(() => MilterReplies.Decision(new(P.ReplyCode, B("250 fine\0")), out _)).Should().Throw<MilterProtocolException>();
        FluentActions.Invoking(() => MilterReplies.Decision(new((byte)'z', []), out _)).Should().Throw<MilterProtocolException>();
    }

    [Fact]
    public void A_message_keeps_its_bytes_until_edited_and_edits_land_where_the_protocol_says()
    {
        const string text = "Received: from x\n  by y; date\nSubject: hi\nto: a@b\nTo: c@d\n\nbody\r\nline\n";
        var m = MilterMessage.Parse(B(text));
        m.Fields.Select(f => S(f.Name)).Should().Equal("Received", "Subject", "to", "To");
        S(MilterMessage.ValueOf(m.Fields[0], leadingSpace: false)).Should().Be("from x\r\n  by y; date");
        S(MilterMessage.ValueOf(m.Fields[1], leadingSpace: true)).Should().Be(" hi");
        S(m.Serialize()).Should().Be(text);

        var t = new MilterTransaction(m, B("s@x"), [B("a@b"), B("c@d")]);
        MilterReplies.Apply([
            ScriptedMilter.Indexed(P.ChangeHeader, 2, "TO", ""),
            ScriptedMilter.Indexed(P.InsertHeader, 1, "X-In", "folded\r\nvalue"),
            ScriptedMilter.Packet(P.AddHeader, "X-End", "v"),
            ScriptedMilter.Indexed(P.ChangeHeader, 1, "X-Missing", "added"),
            ScriptedMilter.Raw(P.ReplaceBody, "new\r"), ScriptedMilter.Raw(P.ReplaceBody, "\nbody\r\n"),
            ScriptedMilter.Packet(P.DelRcpt, "<C@D>"), ScriptedMilter.Packet(P.AddRcptPar, "<e@f>", "NOTIFY=NEVER"),
            ScriptedMilter.Packet(P.ChangeFrom, "<>"),
        ], t, P.Actions.All, leadingSpace: false);
        // The replaced body's chunks join before their line ends are read, so a CRLF across two chunks is one.
        S(t.Message.Serialize()).Should().Be("Received: from x\n  by y; date\nX-In: folded\n\tvalue\nSubject: hi\nto: a@b\n" +
                                             "X-End: v\nX-Missing: added\n\nnew\nbody\n");
        t.Recipients.Select(S).Should().Equal("a@b", "e@f");
        t.Sender.Should().BeEmpty();
        t.Edited.Should().BeTrue();
    }

    [Fact]
    public void Edits_not_negotiated_are_refused_and_leave_the_message_alone()
    {
        var original = "Subject: hi\n\nbody\n";
        var t = new MilterTransaction(MilterMessage.Parse(B(original)), B("s@x"), [B("a@b")]);
        var trial = t.Copy();
        FluentActions.Invoking(() => MilterReplies.Apply([ScriptedMilter.Packet(P.AddHeader, "X", "y"), ScriptedMilter.Raw(P.ReplaceBody, "z")],
            trial, P.Actions.AddHeaders, leadingSpace: false)).Should().Throw<MilterProtocolException>();
        S(t.Message.Serialize()).Should().Be(original);
    }

    // Found by fuzzing (fuzz/corpus/milter/crashes-fixed/header-name-lf): a name with LF ended the
    // header section early and put the rest of the name into the message as a line of its own.
    [Theory]
    [InlineData("X\n\nInjected")]
    [InlineData("X\nInjected")]
    [InlineData("Two words")]
    [InlineData("Colon:")]
    [InlineData("Tab\t")]
    [InlineData("")]
    public void A_header_name_that_is_not_a_field_name_is_a_protocol_error(string name)
    {
        foreach (var edit in new[] { ScriptedMilter.Packet(P.AddHeader, name, "v"), ScriptedMilter.Indexed(P.InsertHeader, 0, name, "v"),
                     ScriptedMilter.Indexed(P.ChangeHeader, 1, name, "v") })
        {
            var t = new MilterTransaction(MilterMessage.Parse(B("Subject: hi\n\nbody\n")), B("s@x"), [B("a@b")]);
            FluentActions.Invoking(() => MilterReplies.Apply([edit], t, P.Actions.All, leadingSpace: false))
                .Should().Throw<MilterProtocolException>();
        }
    }

    [Theory]
    [InlineData("<evil@x>\r\nRCPT TO:<more@y>")]
    [InlineData("a@b\n")]
    [InlineData("a\tb@c")]
    public void An_envelope_address_with_a_control_character_is_a_protocol_error(string address)
    {
        foreach (var edit in new[] { ScriptedMilter.Packet(P.ChangeFrom, address), ScriptedMilter.Packet(P.AddRcpt, address),
                     ScriptedMilter.Packet(P.AddRcptPar, address, ""), ScriptedMilter.Packet(P.DelRcpt, address) })
        {
            var t = new MilterTransaction(MilterMessage.Parse(B("Subject: hi\n\nbody\n")), B("s@x"), [B("a@b")]);
            FluentActions.Invoking(() => MilterReplies.Apply([edit], t, P.Actions.All, leadingSpace: false))
                .Should().Throw<MilterProtocolException>();
            S(t.Sender).Should().Be("s@x");
            t.Recipients.Select(S).Should().Equal("a@b");
        }
    }

    [Fact]
    public void A_message_without_a_blank_line_or_with_a_body_line_first_is_read_whole()
    {
        S(MilterMessage.Parse(B("Subject: only\n")).Serialize()).Should().Be("Subject: only\n");
        var m = MilterMessage.Parse(B("not a header line\nSubject: x\n"));
        m.Fields.Should().BeEmpty();
        S(m.Body).Should().Be("not a header line\nSubject: x\n");
    }

    [Fact]
    public void A_quarantined_message_remembers_its_envelope_and_gives_it_back()
    {
        var real = new Jsmail.Common.Envelope.QueueEnvelope(B("s@x"), [B("a@b"), B("c@d")]);
        var (held, note) = Jsmail.Common.Smtp.Session.MessageQuarantine.Divert(real, B("bad\r\nnews"), B("q@mx"));
        held.Recipients.Select(S).Should().Equal("q@mx");
        S(note.Header).Should().Be("X-Jsmail-Quarantine: bad  news\nX-Jsmail-Quarantine-Sender: <s@x>\n" +
                                   "X-Jsmail-Quarantine-Recipient: <a@b>\nX-Jsmail-Quarantine-Recipient: <c@d>\n");
        var back = Jsmail.Common.Smtp.Session.MessageQuarantine.Release(B("Return-Path: <s@x>\n" + S(note.Header) + "Subject: x\n\nbody\n"))!.Value;
        S(back.Envelope.Sender).Should().Be("s@x");
        back.Envelope.Recipients.Select(S).Should().Equal("a@b", "c@d");
        S(back.Message).Should().Be("Subject: x\n\nbody\n");
        Jsmail.Common.Smtp.Session.MessageQuarantine.Release(B("Subject: x\n\nbody\n")).Should().BeNull();
    }

    [Fact]
    public void Quarantine_fields_carry_esmtp_parameters_even_behind_odd_addresses()
    {
        var ext = new Jsmail.Common.Envelope.EnvelopeExtension();
        ext.Sender.Add(Jsmail.Common.Envelope.EsmtpParameter.Of("ENVID", "e>1"));
        ext.ForRecipient(1).Add(Jsmail.Common.Envelope.EsmtpParameter.Of("NOTIFY", "NEVER"));
        var real = new Jsmail.Common.Envelope.QueueEnvelope(B("s@x"), [B("odd> name@b"), B("c@d")], ext);
        var (held, note) = Jsmail.Common.Smtp.Session.MessageQuarantine.Divert(real, B("why"), B("q@mx"));
        held.Extension!.Sender.Select(p => p.Keyword).Should().Equal("ENVID");
        held.Extension.Recipients.Should().BeEmpty();
        S(note.Header).Should().Contain("Sender: <s@x> ENVID=e>1\n").And.Contain("Recipient: <odd> name@b>\n").And.Contain("Recipient: <c@d> NOTIFY=NEVER\n");
        var back = Jsmail.Common.Smtp.Session.MessageQuarantine.Release(B("Received: (qmail 1 invoked by uid 0); now\n" + S(note.Header) + "\nbody\n"))!.Value;
        back.Envelope.Recipients.Select(S).Should().Equal("odd> name@b", "c@d");
        back.Envelope.Extension!.Sender.Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("ENVID=e>1");
        back.Envelope.Extension.ParametersOf(0).Should().BeEmpty();
        back.Envelope.Extension.ParametersOf(1).Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("NOTIFY=NEVER");
        S(back.Message).Should().Be("\nbody\n");
    }

    [Fact]
    public void Esmtp_arguments_of_filters_keep_only_what_the_envelope_carries()
    {
        var dropped = new List<string>();
        MilterEsmtpArguments.ForSender(B("ret=full ENVID=x+2B1 SIZE=5 BODY=8BITMIME"), dropped).Select(p => p.Keyword + "=" + p.ValueText)
            .Should().Equal("RET=full", "ENVID=x+2B1");
        MilterEsmtpArguments.ForRecipient(B("NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b NOTIFY2=1"), dropped).Select(p => p.Keyword)
            .Should().Equal("NOTIFY", "ORCPT");
        MilterEsmtpArguments.ForRecipient(B("NOTIFY=SOMETIMES"), dropped).Should().BeEmpty();
        MilterEsmtpArguments.ForSender(B("RET=FULL\r\nX"), dropped).Should().BeEmpty();
        dropped.Should().HaveCount(5);
    }

    [Fact]
    public void Macros_go_by_the_stages_set_or_the_filters_own_list()
    {
        var values = new Dictionary<string, byte[]> { ["j"] = B("mx"), ["{client_addr}"] = B("1.2.3.4"), ["i"] = B("Q1") };
        S(MilterMacros.Packet(P.Connect, MilterMacros.Connect, values)!.Value.Data).Should().Be("Cj\0mx\0{client_addr}\0" + "1.2.3.4\0");
        MilterMacros.Packet(P.Helo, MilterMacros.Helo, values).Should().BeNull();
        MilterMacros.ParseList(B("i {mail_addr} rcpt_addr")).Should().Equal("i", "{mail_addr}", "{rcpt_addr}");
    }
}
