using Jsmail.TestSupport;
using Jsmail.Common.Smtp.Milter;
using P = Jsmail.Common.Smtp.Milter.MilterProtocol;
using static Jsmail.Smtpd.Tests.ScriptedMilter;

namespace Jsmail.Smtpd.Tests;

/// <summary>control/milters with a milter the test scripts: every stage, every action, and filters that fail.</summary>
public sealed class MilterTests
{
    private const string Greeting = "220 mx.example ESMTP\r\n";
    private const string Envelope = "EHLO client.example\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n";
    private const string Message = "DATA\r\nSubject: hello\r\nX-Old: 1\r\nX-Old: 2\r\n\r\nthe body\r\n.\r\nQUIT\r\n";

    private static SmtpdHome Home(params ScriptedMilter[] milters) => Home(milters.Select(m => m.Socket).ToArray());

    private static SmtpdHome Home(params string[] lines)
    {
        var h = new SmtpdHome();
        h.Home.WriteControl("milters", string.Join("\n", lines) + "\n");
        return h;
    }

    /// <summary>The replies after EHLO's: one line each for MAIL, RCPT, RCPT, DATA, the dot and QUIT.</summary>
    private static string[] Replies(RunResult r) =>
        r.Out.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("250-") && !l.StartsWith("220 ")).Skip(1).ToArray();

    [Theory, ForEachDriver]
    public void Every_end_of_message_edit_is_what_gets_queued(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter();
        milter.AtEnd.Clear();
        milter.AtEnd.AddRange([
            Packet(P.AddHeader, "X-Added", "yes"),
            Indexed(P.InsertHeader, 0, "X-First", "top"),
            Indexed(P.ChangeHeader, 2, "X-Old", ""),
            Indexed(P.ChangeHeader, 1, "Subject", "changed"),
            Raw(P.ReplaceBody, "new body\r\nline two\r\n"),
            Packet(P.ChangeFrom, "<new@sender.example>"),
            Packet(P.AddRcpt, "<c@elsewhere.example>"),
            Packet(P.DelRcpt, "<a@example.com>"),
            new MilterPacket(P.Progress, []),
            new MilterPacket(P.Accept, []),
        ]);
        using var h = Home(milter);
        var r = h.Talk(driver, Envelope + Message);
        Replies(r).Should().HaveCount(6).And.Subject.ElementAt(4).Should().StartWith("250 2.0.0 ok ");
        var (todo, message) = h.Queued().Single();
        SmtpdHome.S(todo).Should().EndWith("\0Fnew@sender.example\0Tb@example.com\0Tc@elsewhere.example\0");
        var text = SmtpdHome.S(message);
        text.Should().StartWith("Received: (qmail ").And.Contain("\nX-First: top\nReceived: from ");
        text.Should().EndWith("\nSubject: changed\nX-Old: 1\nX-Added: yes\n\nnew body\nline two\n");
    }

    [Theory, ForEachDriver]
    public void Stages_are_sent_in_order_with_their_macros_and_skipped_as_negotiated(SmtpdDriver driver)
    {
        using var all = new ScriptedMilter();
        using var few = new ScriptedMilter { Steps = P.Steps.NoHelo | P.Steps.NoHeaders | P.Steps.NoReplyRcpt | P.Steps.NoBody };
        using var h = Home(all, few);
        var r = h.Talk(driver, Envelope + Message);
        Replies(r)[4].Should().StartWith("250 2.0.0 ok ");
        all.Commands.Should().Be("OCHMRRTLLLLNBEQ");
        few.Commands.Should().Be("OCMRRTNEQ");
        var macros = all.Seen.Single().Where(p => p.Code == P.Macro).ToList();
        string MacrosOf(char stage) => Text(macros.Single(p => p.Data[0] == (byte)stage).Data[1..]);
        MacrosOf('C').Should().Contain("j\0mx.example\0").And.Contain("{client_addr}\0127.0.0.1\0").And.Contain("{daemon_name}\0jsmail-smtpd\0");
        MacrosOf('M').Should().Contain("{mail_addr}\0s@x\0").And.MatchRegex("^i\0[0-9A-F]+\0");
        Text(macros.Where(p => p.Data[0] == (byte)'R').Last().Data[1..]).Should().Contain("{rcpt_addr}\0b@example.com\0");
        var connect = all.Seen.Single().First(p => p.Code == P.Connect);
        Text(connect.Data).Should().Be("[127.0.0.1]\0" + "4\0\0" + "127.0.0.1\0");
        var mail = all.Seen.Single().First(p => p.Code == P.Mail);
        Text(mail.Data).Should().Be("<s@x>\0");
        var headers = all.Seen.Single().Where(p => p.Code == P.Header).Select(p => Text(p.Data)).ToList();
        headers.Should().Contain(["Subject\0hello\0", "X-Old\0" + "1\0", "X-Old\0" + "2\0"]);
        Text(all.Seen.Single().First(p => p.Code == P.Body).Data).Should().Be("the body\r\n");
        h.Queued().Should().ContainSingle();
    }

    [Theory, ForEachDriver]
    public void Refusals_at_each_stage_use_the_milters_reply_or_postfixs(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter();
        milter.Answer[P.Rcpt] = [Packet(P.ReplyCode, "550 5.1.1 no such user here")];
        milter.AtEnd.Clear();
        milter.AtEnd.Add(new MilterPacket(P.Reject, []));
        using var h = Home(milter);
        var r = h.Talk(driver, "EHLO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n");
        Replies(r).Should().Equal("250 2.1.0 ok", "550 5.1.1 no such user here", "503 5.5.1 RCPT first (#5.5.1)");

        milter.Answer.Clear();
        milter.Answer[P.Mail] = [new MilterPacket(P.Tempfail, [])];
        r = h.Talk(driver, "EHLO c\r\nMAIL FROM:<s@x>\r\nQUIT\r\n");
        Replies(r).Should().Equal("451 4.7.1 Service unavailable - try again later", "221 2.0.0 mx.example");

        milter.Answer.Clear();
        r = h.Talk(driver, Envelope + Message);
        Replies(r)[4].Should().Be("550 5.7.1 Command rejected");
        h.Queued().Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void Discard_answers_ok_and_queues_nothing(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter();
        milter.Answer[P.Data] = [new MilterPacket(P.Discard, [])];
        using var h = Home(milter);
        var r = h.Talk(driver, Envelope + Message);
        Replies(r)[4].Should().MatchRegex("^250 2.0.0 ok [0-9]+ discarded$");
        h.Queued().Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void Quarantine_sends_the_message_to_the_quarantine_address_with_its_real_envelope(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter();
        milter.AtEnd.Clear();
        milter.AtEnd.AddRange([Packet(P.Quarantine, "looks like phishing"), new MilterPacket(P.Continue, [])]);
        using var h = Home(milter);
        h.Home.WriteControl("quarantine", "held@mx.example\n");
        var r = h.Talk(driver, "EHLO client.example\r\nMAIL FROM:<s@x> ENVID=q1\r\nRCPT TO:<a@example.com>\r\n" +
                               "RCPT TO:<b@example.com> NOTIFY=FAILURE ORCPT=rfc822;b@example.com\r\n" + Message);
        Replies(r)[4].Should().StartWith("250 2.0.0 ok ");
        var (todo, message) = h.Queued().Single();
        SmtpdHome.S(todo).Should().EndWith("\0Fs@x\0Theld@mx.example\0");
        SmtpdHome.S(message).Should().Contain("\nX-Jsmail-Quarantine: looks like phishing\nX-Jsmail-Quarantine-Sender: <s@x> ENVID=q1\n" +
            "X-Jsmail-Quarantine-Recipient: <a@example.com>\nX-Jsmail-Quarantine-Recipient: <b@example.com> NOTIFY=FAILURE ORCPT=rfc822;b@example.com\n" +
            "Received: from ");

        // The operator releases the quarantine mailbox's copy: queued again for its real envelope, ESMTP parameters
        // included, without the fields (nor the lines the queue and the mailbox delivery put above them).
        using var dir = new TempDir();
        File.WriteAllBytes(dir["held"], [.. "Return-Path: <s@x>\nDelivered-To: held@mx.example\n"u8, .. message]);
        var release = Run.Process(h.Home.Bin("jsmail-release"), [dir["held"]]);
        release.ExitCode.Should().Be(0, release.Err);
        var released = h.Queued().Single(q => SmtpdHome.S(q.Todo).EndsWith("\0Fs@x\0Ta@example.com\0Tb@example.com\0"));
        SmtpdHome.Body(released.Message).Should().Be("Subject: hello\nX-Old: 1\nX-Old: 2\n\nthe body\n");
        var id = h.Home.Entries("todo").Select(t => Path.GetFileName(t))
            .Single(i => SmtpdHome.S(h.Home.ReadQueueFile(Path.Combine("todo", i))).EndsWith("\0Tb@example.com\0"));
        var ext = Jsmail.Common.Envelope.EnvelopeExtensionCodec.Decode(h.Home.ReadQueueFile(Path.Combine("ext", (long.Parse(id) % 23).ToString(), id)), 2);
        ext.Sender.Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("ENVID=q1");
        ext.ParametersOf(0).Should().BeEmpty();
        ext.ParametersOf(1).Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("NOTIFY=FAILURE", "ORCPT=rfc822;b@example.com");
        Run.Process(h.Home.Bin("jsmail-release"), [dir["held"] + ".missing"]).ExitCode.Should().Be(111);
        File.WriteAllText(dir["plain"], "Subject: not held\n\nbody\n");
        Run.Process(h.Home.Bin("jsmail-release"), [dir["plain"]]).ExitCode.Should().Be(100);
    }

    /// <summary>
    /// A milter that fails at end of message: with tempfail nothing is queued;
    /// with accept the message is queued as the client sent it, none of the
    /// failed milter's edits in it.
    /// </summary>
    private static void DefaultActionsTakeOver(SmtpdDriver driver, ScriptedMilter milter, string settings)
    {
        using (var h = Home(milter.Socket + settings))
        {
            var r = h.Talk(driver, Envelope + Message);
            Replies(r)[4].Should().Be("451 4.7.1 Service unavailable - try again later");
            h.Queued().Should().BeEmpty();
        }
        using (var h = Home(milter.Socket + settings + " default_action=accept"))
        {
            var r = h.Talk(driver, Envelope + Message);
            Replies(r)[4].Should().StartWith("250 2.0.0 ok ");
            SmtpdHome.Body(h.Queued().Single().Message).Should().Be("Subject: hello\nX-Old: 1\nX-Old: 2\n\nthe body\n");
        }
    }

    [Theory, ForEachDriver]
    public void A_milter_that_hangs_gets_its_default_action_after_its_deadline(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter { Fault = Misbehaviour.Hang, FaultAt = P.EndOfBody };
        DefaultActionsTakeOver(driver, milter, " content_timeout=1");
    }

    [Theory, ForEachDriver]
    public void A_milter_that_crashes_mid_message_leaves_nothing_half_edited(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter { Fault = Misbehaviour.Crash, FaultAt = P.EndOfBody };
        milter.AtEnd.Clear();
        milter.AtEnd.AddRange([Packet(P.AddHeader, "X-Half", "done"), Raw(P.ReplaceBody, "half\r\n"), new MilterPacket(P.Continue, [])]);
        DefaultActionsTakeOver(driver, milter, "");
    }

    [Theory, ForEachDriver]
    public void A_milter_that_speaks_garbage_or_cannot_be_reached_gets_its_default(SmtpdDriver driver)
    {
        using var garbage = new ScriptedMilter { Fault = Misbehaviour.Garbage, FaultAt = P.Rcpt };
        using (var h = Home(garbage.Socket))
        {
            var r = h.Talk(driver, Envelope + "QUIT\r\n");
            Replies(r).Should().Equal("250 2.1.0 ok", "451 4.7.1 Service unavailable - try again later",
                "451 4.7.1 Service unavailable - try again later", "221 2.0.0 mx.example");
        }
        using var after = new ScriptedMilter();
        after.AtEnd.Clear();
        after.AtEnd.AddRange([Packet(P.AddHeader, "X-Second", "ran"), new MilterPacket(P.Continue, [])]);
        using (var h = Home(garbage.Socket + " default_action=accept", "unix:/nonexistent/milter.sock default_action=accept", after.Socket))
        {
            var r = h.Talk(driver, Envelope + Message);
            Replies(r)[4].Should().StartWith("250 2.0.0 ok ");
            SmtpdHome.Body(h.Queued().Single().Message).Should().Contain("X-Old: 2\nX-Second: ran\n\nthe body\n");
        }
    }

    [Theory, ForEachDriver]
    public void No_milter_is_asked_under_qmail_compat(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter();
        milter.Answer[P.Mail] = [new MilterPacket(P.Reject, [])];
        using var h = Home(milter);
        var r = h.Talk(driver, "HELO c\r\nMAIL FROM:<s@x>\r\nQUIT\r\n", compat: true);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250 mx.example\r\n250 ok\r\n221 mx.example\r\n");
        milter.Seen.Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void The_connect_stage_is_asked_at_connect_and_its_refusal_is_the_greeting(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter();
        using (var h = Home(milter))
        {
            h.Talk(driver, "QUIT\r\n").Out.Should().Be(Greeting + "221 2.0.0 mx.example\r\n");
            Wait.Until(() => milter.Commands == "OCQ", seconds: 10).Should().BeTrue("a client that only says QUIT was still shown to the milter: " + milter.Commands);
        }

        using var refusing = new ScriptedMilter();
        refusing.Answer[P.Connect] = [Packet(P.ReplyCode, "554 5.7.1 go away")];
        using (var h = Home(refusing))
        {
            var r = h.Talk(driver, "EHLO c\r\nMAIL FROM:<s@x>\r\nQUIT\r\n");
            r.Out.Should().Be("554 5.7.1 go away\r\n554 5.7.1 go away\r\n554 5.7.1 go away\r\n221 2.0.0 mx.example\r\n");
            Wait.Until(() => refusing.Commands == "OCQ", seconds: 10).Should().BeTrue("nothing past the connect stage is asked: " + refusing.Commands);
        }

        using var closing = new ScriptedMilter();
        closing.Answer[P.Connect] = [new MilterPacket(P.Shutdown, [])];
        using (var h = Home(closing))
            h.Talk(driver, "EHLO c\r\nQUIT\r\n").Out.Should().Be("421 4.7.0 Service unavailable - closing connection\r\n");

        using (var h = Home("unix:/nonexistent/milter.sock"))
            h.Talk(driver, "EHLO c\r\nQUIT\r\n").Out.Should()
                .Be("451 4.7.1 Service unavailable - try again later\r\n451 4.7.1 Service unavailable - try again later\r\n221 2.0.0 mx.example\r\n");
    }

    [Theory, ForEachDriver]
    public void Esmtp_arguments_of_change_sender_and_add_recipient_reach_the_envelope_where_it_carries_them(SmtpdDriver driver)
    {
        using var milter = new ScriptedMilter();
        milter.AtEnd.Clear();
        milter.AtEnd.AddRange([
            Packet(P.ChangeFrom, "<new@sender.example>", "RET=FULL ENVID=m1 SIZE=5"),
            Packet(P.AddRcptPar, "<c@elsewhere.example>", "NOTIFY=NEVER BOGUS=1"),
            Packet(P.AddRcptPar, "<d@elsewhere.example>", ""),
            new MilterPacket(P.Continue, []),
        ]);
        using var h = Home(milter);
        var r = h.Talk(driver, "EHLO client.example\r\nMAIL FROM:<s@x> RET=HDRS SIZE=100\r\nRCPT TO:<a@example.com> NOTIFY=DELAY\r\n" + Message);
        Replies(r)[3].Should().StartWith("250 2.0.0 ok ");
        r.Err.Should().Contain("milter: change-from ESMTP argument SIZE not kept").And.Contain("milter: add-rcpt ESMTP argument BOGUS not kept");
        var id = h.Home.Entries("todo").Select(t => Path.GetFileName(t)).Single();
        SmtpdHome.S(h.Home.ReadQueueFile(Path.Combine("todo", id)))
            .Should().EndWith("\0Fnew@sender.example\0Ta@example.com\0Tc@elsewhere.example\0Td@elsewhere.example\0");
        var ext = Jsmail.Common.Envelope.EnvelopeExtensionCodec.Decode(
            h.Home.ReadQueueFile(Path.Combine("ext", (long.Parse(id) % 23).ToString(), id)), 3);
        ext.Sender.Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("SIZE=100", "RET=FULL", "ENVID=m1");
        ext.ParametersOf(0).Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("NOTIFY=DELAY");
        ext.ParametersOf(1).Select(p => p.Keyword + "=" + p.ValueText).Should().Equal("NOTIFY=NEVER");
        ext.ParametersOf(2).Should().BeEmpty();
    }
}
