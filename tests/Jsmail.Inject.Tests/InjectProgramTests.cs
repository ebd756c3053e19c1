using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Inject.Tests;

/// <summary>The published jsmail-inject in an installed home: §16 items 45–50, options, bad input, exit codes.</summary>
public sealed class InjectProgramTests(InjectHome home) : IClassFixture<InjectHome>
{
    private static byte[] L(string s) => Encoding.Latin1.GetBytes(s);

    [Fact]
    public void Item_45_prints_without_queueing_with_fields_added_in_order()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var r = home.Capture(L("Subject: s\n\nbody\n"), ["-n"]);
        r.Result.ExitCode.Should().Be(0);
        r.Message.Should().BeNull("-n does not run the queue program");
        var lines = r.Result.Out.Split('\n');
        lines[0].Should().Be("Return-Path: <joe@h.d.example>");
        lines[1].Should().MatchRegex(@"^Date: \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000$");
        lines[2].Should().MatchRegex(@"^Message-ID: <\d{14}\.\d+\.qmail@id\.example>$");
        lines[3].Should().Be("From: joe@h.d.example");
        lines[4].Should().Be("Cc: recipient list not shown: ;");
        lines[5].Should().Be("Subject: s");
        var stamp = DateTime.ParseExact(lines[2][13..27], "yyyyMMddHHmmss", null, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);
        new DateTimeOffset(stamp, TimeSpan.Zero).ToUnixTimeSeconds().Should().BeInRange(before, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    [Fact]
    public void Message_id_carries_the_injecting_process_id_and_the_date_its_time()
    {
        var r = home.Capture(L("To: a\n\n"), []);
        r.Result.ExitCode.Should().Be(0);
        var msg = Encoding.ASCII.GetString(r.Message!);
        msg.Should().Contain($".{r.Ppid}.qmail@id.example>");
        var id = System.Text.RegularExpressions.Regex.Match(msg, @"Message-ID: <(\d{14})\.").Groups[1].Value;
        var date = System.Text.RegularExpressions.Regex.Match(msg, @"Date: (.*) -0000").Groups[1].Value;
        DateTime.ParseExact(date, "d MMM yyyy HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)
            .ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture).Should().Be(id);
    }

    [Fact]
    public void Item_46_drops_fields_and_marks_mbox_lines()
    {
        var r = home.Run(L("From foo\nBcc: b\nResent-Bcc: rb\nReturn-Path: <r@x.y>\nContent-Length: 3\nTo: t@x.y\nnot a field\nmore\n"), ["-n"]);
        var body = r.Out[r.Out.IndexOf("MBOX-Line", StringComparison.Ordinal)..];
        body.Should().Be("MBOX-Line: From foo\nTo: t@x.y\n\nnot a field\nmore\n");
    }

    [Fact]
    public void Item_47_route_address_in_header_and_envelope_and_environment_over_controls()
    {
        var env = InjectHome.CleanEnvironment();
        env["QMAILDEFAULTDOMAIN"] = "env.example";
        var r = home.Capture(L("To: <@a,@b:joe@c.d>, w@h., joe@localhost\n\n"), [], env);
        Encoding.ASCII.GetString(r.Message!).Should().Contain("To: <joe@c.d>, w@h.env.example, joe@localhost.env.example\n");
        InjectHome.EnvelopeText(r.Envelope!).Should().Be("Fjoe@h.env.example\nTjoe@localhost.env.example\nTw@h.env.example\nTjoe@c.d\n");
    }

    [Fact]
    public void Item_48_verp_letters_from_the_environment()
    {
        var env = InjectHome.CleanEnvironment();
        env["QMAILINJECT"] = "r";
        InjectHome.EnvelopeText(home.Capture(L("To: a@x.y\n\n"), [], env).Envelope!).Should().StartWith("Fjoe-@h.d.example-@[]\n");
        env["QMAILINJECT"] = "m";
        var m = home.Capture(L("To: a@x.y\n\n"), [], env);
        InjectHome.EnvelopeText(m.Envelope!).Should().MatchRegex($@"^Fjoe-\d{{9,}}\.{m.Ppid}@h\.d\.example\n");
    }

    [Fact]
    public void Item_49_argv_only_with_a_and_header_last_first_by_default()
    {
        InjectHome.EnvelopeText(home.Capture(L("To: t@x.y\nCc: c@x.y\n\n"), ["-a", "x@y.z"]).Envelope!)
            .Should().Be("Fjoe@h.d.example\nTx@y.z\n");
        InjectHome.EnvelopeText(home.Capture(L("To: a@x.y, b@x.y\n\n"), []).Envelope!)
            .Should().Be("Fjoe@h.d.example\nTb@x.y\nTa@x.y\n");
    }

    [Theory]
    [InlineData("-t", "illegal option -- t")]
    [InlineData("-x", "illegal option -- x")]
    [InlineData("-f", "option requires an argument -- f")]
    public void Item_50_a_bad_option_exits_100_and_queues_nothing(string option, string text)
    {
        var r = home.Capture(L("To: a@x.y\n\n"), [option]);
        r.Result.ExitCode.Should().Be(100);
        r.Result.Err.Should().Be($"qmail-inject: {text}\n", "qmail's getopt names the program by argv[0]'s base name");
        r.Message.Should().BeNull();
    }

    [Fact]
    public void Item_50_an_unparsable_sender_field_exits_100()
    {
        var r = home.Capture(L("To: a@x.y\nReply-To: x@y.z>\n\nbody\n"), []);
        r.Result.ExitCode.Should().Be(100);
        r.Result.Err.Should().Be("qmail-inject: fatal: unable to parse this line:\nReply-To: x@y.z>\n");
        r.Message.Should().BeNull();
    }

    [Theory]
    [InlineData("82", "Dno thanks", 100, "no thanks")]
    [InlineData("82", "Ztry later", 111, "try later")]
    [InlineData("31", "", 100, "mail server permanently rejected message (#5.3.0)")]
    [InlineData("53", "", 111, "qq write error or disk full (#4.3.0)")]
    public void Item_50_queue_results(string exit, string fd6, int code, string text)
    {
        var env = InjectHome.CleanEnvironment();
        env["CAPTURE_EXIT"] = exit;
        env["CAPTURE_TEXT"] = fd6;
        var r = home.Capture(L("To: a@x.y\n\n"), [], env);
        r.Result.ExitCode.Should().Be(code);
        r.Result.Err.Should().Be($"qmail-inject: fatal: {text}\n");
    }

    [Fact]
    public void Item_50_a_queue_program_that_cannot_be_run_exits_111()
    {
        var env = InjectHome.CleanEnvironment();
        env["QMAILQUEUE"] = "/nonexistent/qmail-queue";
        var r = home.Run(L("To: a@x.y\n\n"), [], env);
        r.ExitCode.Should().Be(111);
        r.Err.Should().Be("qmail-inject: fatal: unable to exec qq (#4.3.0)\n");
    }

    [Fact]
    public void An_unparsable_argv_address_exits_100_before_reading()
    {
        var r = home.Capture(L("To: a@x.y\n\n"), ["x@a(b"]);
        r.Result.ExitCode.Should().Be(100);
        r.Result.Err.Should().Be("qmail-inject: fatal: unable to parse address: x@a(b\n");
        r.Message.Should().BeNull();
    }

    [Fact]
    public void An_unparsable_default_domain_is_reported_as_qmail_does()
    {
        var env = InjectHome.CleanEnvironment();
        env["QMAILDEFAULTDOMAIN"] = "(bad";
        var r = home.Capture(L("To: a\n\n"), [], env);
        r.Result.ExitCode.Should().Be(100);
        r.Result.Err.Should().Be("qmail-inject: fatal: unable to parse this line:\n.(bad");
        r.Message.Should().BeNull();
    }

    [Fact]
    public void An_unreadable_mail_followup_to_file_is_a_read_error()
    {
        using var dir = new TempDir("inject-mft");
        var env = InjectHome.CleanEnvironment();
        env["QMAILMFTFILE"] = dir.Path; // a directory: open works, read fails
        var r = home.Capture(L("To: a\n\n"), [], env);
        r.Result.ExitCode.Should().Be(111);
        r.Result.Err.Should().Be("qmail-inject: fatal: read error\n");
        r.Message.Should().BeNull();
    }

    [Fact]
    public void Outside_a_qmail_home_it_is_an_internal_bug()
    {
        var r = Run.Process(Repo.Program("jsmail-inject"), ["-n"], L("To: a\n\n"), InjectHome.CleanEnvironment());
        r.ExitCode.Should().Be(111);
        r.Err.Should().Be("qmail-inject: fatal: internal bug\n");
    }

    // ------------------------------------------------------------ bad input: qmail takes it all, byte for byte

    [Fact]
    public void A_megabyte_header_line_passes_through()
    {
        var subject = "Subject: " + new string('x', 1 << 20) + "\n";
        var r = home.Capture(L("To: a@x.y\n" + subject + "\nbody\n"), []);
        r.Result.ExitCode.Should().Be(0);
        Encoding.Latin1.GetString(r.Message!).Should().Contain("\nTo: a@x.y\n" + subject + "\nbody\n");
        InjectHome.EnvelopeText(r.Envelope!).Should().Be("Fjoe@h.d.example\nTa@x.y\n");
    }

    [Fact]
    public void A_megabyte_recipient_line_is_folded_and_every_address_queued()
    {
        var addresses = Enumerable.Range(0, 40000).Select(i => $"u{i}@x.y").ToList();
        var r = home.Capture(L("To: " + string.Join(", ", addresses) + "\n\n"), []);
        r.Result.ExitCode.Should().Be(0);
        var msg = Encoding.Latin1.GetString(r.Message!);
        msg.Split('\n').Should().OnlyContain(l => l.Length <= 80);
        var env = InjectHome.EnvelopeText(r.Envelope!).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        env.Skip(1).Should().Equal(addresses.AsEnumerable().Reverse().Select(a => "T" + a));
    }

    [Fact]
    public void Binary_input_with_nul_bytes_and_invalid_utf8_survives_byte_for_byte()
    {
        var body = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(new byte[] { 0xc3, 0x28, 0, (byte)'\n' }).ToArray();
        byte[] message = [.. L("To: a@x.y\nSubject: \u00ff\0\u00fe\n\n"), .. body];
        var r = home.Capture(message, []);
        r.Result.ExitCode.Should().Be(0);
        r.Message.Should().EndWith([.. L("To: a@x.y\nSubject: \u00ff\0\u00fe\n\n"), .. body]);
    }

    [Fact]
    public void An_empty_message_is_queued_with_the_added_fields_and_no_recipients()
    {
        var r = home.Capture([], []);
        r.Result.ExitCode.Should().Be(0);
        InjectHome.EnvelopeText(r.Envelope!).Should().Be("Fjoe@h.d.example\n");
        Encoding.ASCII.GetString(InjectHome.Mask(r.Message!)).Should().Be(
            "Date: <DATE>\nMessage-ID: <<STAMP>.<PID>.qmail@id.example>\nFrom: joe@h.d.example\nCc: recipient list not shown: ;\n");
    }

    [Fact]
    public void The_real_queue_takes_the_message()
    {
        var env = InjectHome.CleanEnvironment();
        var before = home.Home.Entries("todo").Count;
        var r = home.Run(L("To: a@x.y\n\nbody\n"), ["-f", "s@x.y"], env);
        r.ExitCode.Should().Be(0, r.Err);
        home.Home.Entries("todo").Count.Should().Be(before + 1);
    }
}
