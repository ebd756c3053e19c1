using System.Text.Json;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>
/// The <c>jsmail queue</c> subcommands (docs/jsmail.md) against the real
/// jsmail-start tree (test spawners: <c>defer*</c> is deferred, anything else
/// delivered), with jsmail-send running (requests over queue/command/send)
/// and stopped (the command edits the files under lock/sendmutex).
/// </summary>
public class OperatorCommandFlowTests
{
    private static RunResult Jsmail(SendHarness h, params string[] args) =>
        Run.Process(h.Home.Bin("jsmail"), args, timeoutMs: 60_000);

    private static RunResult Ok(SendHarness h, params string[] args)
    {
        var r = Jsmail(h, args);
        r.ExitCode.Should().Be(0, "jsmail {0}: {1}{2}", string.Join(' ', args), r.Err, r.Out);
        return r;
    }

    /// <summary>The queue as `jsmail queue list --json` gives it: id and state of each message with a recipient containing <paramref name="recipient"/>.</summary>
    private static List<(string Id, string State)> Listed(SendHarness h, string recipient)
    {
        using var doc = JsonDocument.Parse(Ok(h, "queue", "list", "--json", "--recipient", recipient).Out);
        return doc.RootElement.EnumerateArray().Select(m => (m.GetProperty("id").GetString()!, m.GetProperty("state").GetString()!)).ToList();
    }

    private static string IdOf(SendHarness h, string recipient)
    {
        var ids = Listed(h, recipient);
        ids.Should().ContainSingle("one message for {0} is queued", recipient);
        return ids[0].Id;
    }

    /// <summary>Deliveries the test spawner made to this recipient (its lines: channel, message, sender, recipient, size).</summary>
    private static int Deliveries(SendHarness h, string recipient) => h.Delivered.Count(l => l.Split(' ') is { Length: 5 } f && f[3] == recipient);

    /// <summary>`jsmail check` finds nothing wrong with the queue (the test spawners replaced programs of bin/, so those are not asked about).</summary>
    private static void QueueChecks(SendHarness h)
    {
        var r = Jsmail(h, "check");
        r.Out.Should().Contain("error(s)");
        r.Out.Split('\n').Where(l => l.StartsWith("error: queue", StringComparison.Ordinal)).Should().BeEmpty(r.Out);
    }

    /// <summary>A message delivered after the request proves jsmail-send went on past it (a sync point instead of a sleep).</summary>
    private static void Sync(SendHarness h, string tag)
    {
        h.Queue(SendHarness.Envelope("s@sync.test", tag + "@sync.test"));
        SendHarness.WaitUntil(() => Deliveries(h, tag + "@sync.test") == 1).Should().BeTrue(h.Log);
    }

    [Fact]
    public void With_jsmail_send_running_each_change_goes_through_it()
    {
        using var h = new SendHarness();
        h.Start();
        h.WaitForLog("status: local 0/10 remote 0/20");
        h.Queue(SendHarness.Envelope("s@x.test", "defer1@r.test"));
        h.Queue(SendHarness.Envelope("s@x.test", "defer2@r.test"));
        h.Queue(SendHarness.Envelope("sender@r.test", "defer3@r.test"));
        h.WaitForLog("deferral", 3);
        string d1 = IdOf(h, "defer1@"), d2 = IdOf(h, "defer2@"), d3 = IdOf(h, "defer3@");

        // flush: every deferred message tried again at once (the next retry would be 400 s away)
        var piped = Ok(h, "queue", "flush").Out;
        piped.Should().Contain("due now");
        piped.Should().NotContain("flushing", "the progress bar is for a terminal only");
        h.WaitForLog("deferral", 6);

        // requeue one
        Ok(h, "queue", "requeue", d1);
        h.WaitForLog("deferral", 7);
        h.Log.Should().Contain("operator: requeue msg " + d1);

        // hold: a flush leaves it alone; release: tried at once
        Ok(h, "queue", "hold", d2).Out.Should().Contain("held");
        Listed(h, "defer2@").Should().Equal((d2, "held"));
        var before = h.CountLog("to remote defer2@r.test");
        Ok(h, "queue", "flush");
        Sync(h, "afterhold");
        h.WaitForLog("deferral", 9); // defer1 and defer3 flushed, defer2 not
        h.CountLog("to remote defer2@r.test").Should().Be(before, "a held message is not delivered");
        Ok(h, "queue", "release", d2);
        SendHarness.WaitUntil(() => h.CountLog("to remote defer2@r.test") == before + 1).Should().BeTrue(h.Log);

        // bounce: the sender gets the reason, the message goes
        Ok(h, "queue", "bounce", "--reason", "Refused by the operator", d3);
        SendHarness.WaitUntil(() => Deliveries(h, "sender@r.test") == 1).Should().BeTrue(h.Log);
        h.Copies().Single(c => c.Recipient == "sender@r.test").Message.Should().Contain("<defer3@r.test>:\nRefused by the operator (#5.0.0)");
        h.WaitForLog("end msg " + d3);

        // delete: gone, no bounce
        Ok(h, "queue", "delete", d1);
        h.WaitForLog("end msg " + d1);
        File.Exists(h.Home.Queue($"mess/{ulong.Parse(d1) % 23}/{d1}")).Should().BeFalse();
        h.Log.Should().NotContain("bounce msg " + d1);
        Listed(h, "defer").Select(m => m.Id).Should().Equal(d2);

        // on a terminal (script gives the command a pty) a flush shows its progress until the queue has drained
        var before2 = h.CountLog("to remote defer2@r.test");
        var tty = Run.Process("script", ["-qec", h.Home.Bin("jsmail") + " queue flush", "/dev/null"], timeoutMs: 120_000);
        tty.ExitCode.Should().Be(0, tty.Out);
        tty.Out.Should().Contain("due now").And.Contain("flushing [");
        h.CountLog("to remote defer2@r.test").Should().Be(before2 + 1, "the bar ends once the flushed delivery is done");

        // a request about no message is refused; check passes on the queue left
        Jsmail(h, "queue", "hold", "999999999").ExitCode.Should().Be(111);
        QueueChecks(h);
    }

    [Fact]
    public void With_jsmail_send_stopped_the_command_edits_the_files_and_jsmail_send_honours_them_when_it_starts()
    {
        using var h = new SendHarness();
        // queued while nothing runs: the messages wait in todo/
        h.Queue(SendHarness.Envelope("s@x.test", "held@r.test"));
        h.Queue(SendHarness.Envelope("s@x.test", "deleted@r.test"));
        h.Queue(SendHarness.Envelope("s@x.test", "defer@r.test"));
        string held = IdOf(h, "held@"), deleted = IdOf(h, "deleted@"), deferred = IdOf(h, "defer@");
        Listed(h, "held@").Should().Equal((held, "todo"));
        Ok(h, "queue", "hold", held).Out.Should().Contain("held");
        Ok(h, "queue", "delete", deleted).Out.Should().Contain("deleted");
        Listed(h, "deleted@").Should().BeEmpty();

        h.Start();
        h.WaitForLog("deferral", 1);
        Sync(h, "first");
        Deliveries(h, "held@r.test").Should().Be(0, "a message held before jsmail-send started stays held");
        Deliveries(h, "deleted@r.test").Should().Be(0);
        Jsmail(h, "queue", "hold", deferred).ExitCode.Should().Be(0);
        Jsmail(h, "queue", "release", deferred).ExitCode.Should().Be(0);
        h.Stop();

        // stopped again: requeue the deferred one (its next attempt is in the file, in the future), bounce the held one
        Listed(h, "defer@").Should().Equal((deferred, "deferred"));
        Ok(h, "queue", "requeue", deferred).Out.Should().Contain("when it starts");
        Ok(h, "queue", "bounce", "--reason", "Gone", held);
        var before = h.CountLog("to remote defer@r.test");
        h.Start();
        SendHarness.WaitUntil(() => h.CountLog("to remote defer@r.test") > before).Should().BeTrue("requeued: tried at start\n" + h.Log);
        SendHarness.WaitUntil(() => Deliveries(h, "s@x.test") == 1).Should().BeTrue("the bounce reaches the sender\n" + h.Log);
        Deliveries(h, "held@r.test").Should().Be(0);
        h.Stop();
        QueueChecks(h);
        Listed(h, "@r.test").Select(m => m.Id).Should().Equal(deferred);
    }

    [Fact]
    public void Hold_is_refused_under_qmail_compatibility_and_a_running_qmail_send_has_no_channel()
    {
        using var h = new SendHarness();
        h.Queue(SendHarness.Envelope("s@x.test", "a@r.test"));
        var id = IdOf(h, "a@r.test");
        var env = new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = "qmail" };
        Run.Process(h.Home.Bin("jsmail"), ["queue", "hold", id], env: env).ExitCode.Should().Be(100);
        h.Home.Entries("hold").Should().BeEmpty();

        h.Environment["JSMAIL_COMPAT"] = "qmail";
        h.Start();
        SendHarness.WaitUntil(() => Deliveries(h, "a@r.test") == 1).Should().BeTrue(h.Log);
        h.Queue(SendHarness.Envelope("s@x.test", "defer@r.test"));
        h.WaitForLog("deferral");
        var r = Jsmail(h, "queue", "requeue", IdOf(h, "defer@"));
        r.ExitCode.Should().Be(111);
        r.Err.Should().Contain("without a command channel");
    }

    [Fact]
    public void In_a_privileged_install_root_talks_to_jsmail_send_as_qmails_and_files_root_writes_are_qmailss()
    {
        using var h = new SendHarness(privileged: true);
        h.Queue(SendHarness.Envelope("s@x.test", "defer@r.test"));
        var id = IdOf(h, "defer@");
        Ok(h, "queue", "hold", id);
        new FileInfo(h.Home.Queue("hold/" + id)).Exists.Should().BeTrue();
        Run.Process("stat", ["-c", "%U", h.Home.Queue("hold/" + id)]).Out.Trim().Should().Be("qmails");

        h.Start();
        Sync(h, "privileged");
        h.CountLog("to remote defer@r.test").Should().Be(0, "held before the start");
        Ok(h, "queue", "release", id);
        h.WaitForLog("deferral");
        h.Log.Should().Contain($"operator: release msg {id} by uid 0");
        h.Stop();

        Ok(h, "queue", "bounce", id); // stopped: root appends bounce/<id>, which qmails's jsmail-send must read and remove
        Run.Process("stat", ["-c", "%U", h.Home.Queue("bounce/" + id)]).Out.Trim().Should().Be("qmails");
        h.Start();
        SendHarness.WaitUntil(() => Deliveries(h, "s@x.test") == 1).Should().BeTrue(h.Log);
        h.WaitForLog("end msg " + id);
        QueueChecks(h);
    }

    [Fact]
    public void Status_gives_the_last_delivery_errors_per_destination_from_the_multilog_directory()
    {
        using var h = new SendHarness();
        h.Queue(SendHarness.Envelope("s@x.test", "defer1@r.test", "ok@fine.test"));
        h.Queue(SendHarness.Envelope("s@x.test", "defer2@R.TEST"));
        h.Start();
        h.WaitForLog("deferral", 2);
        h.WaitForLog(": success: ");
        h.Stop();

        // the log as the supervised service keeps it: through the real multilog, with its TAI64N stamps
        var dir = Path.Combine(h.Home.Path, "send-log");
        var multilog = Run.Process("multilog", ["t", dir], System.Text.Encoding.Latin1.GetBytes(h.Log));
        multilog.ExitCode.Should().Be(0, multilog.Err);
        var lastDeferral = h.LogLines.Last(l => l.Contains(": deferral: "));
        var text = lastDeferral[(lastDeferral.IndexOf(": deferral: ", StringComparison.Ordinal) + ": deferral: ".Length)..];

        var status = Ok(h, "status", "--log", dir).Out;
        var line = status.Split('\n').Should().ContainSingle(l => l.Contains(" r.test:"), status).Subject;
        line.Should().StartWith("  remote r.test: 2 since its last success; last deferral at ").And.EndWith(": " + text);
        var at = DateTimeOffset.ParseExact(line.Split(" at ")[1][..20], "yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal);
        (DateTimeOffset.UtcNow - at).Should().BeLessThan(TimeSpan.FromMinutes(10), "multilog stamped it during this test");
        status.Should().NotContain("fine.test", "its delivery succeeded");

        // a later success at r.test clears it; with no log at all the report says so
        File.AppendAllText(Path.Combine(dir, "current"), "starting delivery 99: msg 1 to remote defer1@r.test\ndelivery 99: success: ok/\n");
        Ok(h, "status", "--log", dir).Out.Should().Contain($"delivery errors: none in {dir}");
        Ok(h, "status", "--log", Path.Combine(h.Home.Path, "no-such-log")).Out.Should().Contain("delivery errors: none in ");
    }

    [Fact]
    public void Show_gives_the_envelope_parameters_recipient_states_and_message_list_filters_and_status_counts()
    {
        using var h = new SendHarness();
        var envelope = SendHarness.Envelope("s@x.test", "done@r.test", "defer@r.test")
            .Concat(System.Text.Encoding.Latin1.GetBytes("X1\0MRET=HDRS\0R1\0PNOTIFY=NEVER\0\0")).ToArray();
        h.Queue(envelope, "Subject: shown\n\nthe body\n");
        h.Queue(SendHarness.Envelope("other@y.test", "z@other.test"));
        h.Start();
        h.WaitForLog("deferral");
        Sync(h, "show");
        h.Stop();

        var id = IdOf(h, "defer@r.test");
        var show = Ok(h, "queue", "show", id).Out;
        show.Should().Contain($"Message: {id}\nState: deferred");
        show.Should().Contain("Sender: <s@x.test> RET=HDRS");
        show.Should().Contain("Recipient: <done@r.test> remote done").And.Contain("Recipient: <defer@r.test> remote pending");
        show.Should().Contain("Recipient 1 parameters: NOTIFY=NEVER");
        show.Should().EndWith("Subject: shown\n\nthe body\n");

        Listed(h, "@").Select(m => m.Id).Should().Equal(id); // z@other.test was delivered
        using (var doc = System.Text.Json.JsonDocument.Parse(Ok(h, "queue", "list", "--json", "--domain", "R.TEST", "--state", "deferred", "--sender", "s@x").Out))
            doc.RootElement.GetArrayLength().Should().Be(1);
        Ok(h, "queue", "list", "--json", "--older-than", "1d").Out.Trim().Should().Be("[]");
        Ok(h, "queue", "list", "--state", "held").Out.Should().Contain("0 message(s)");
        Jsmail(h, "queue", "list", "--older-than", "soon").ExitCode.Should().Be(100);
        Jsmail(h, "queue", "show", "12345678").ExitCode.Should().Be(111);

        var status = Ok(h, "status").Out;
        status.Should().Contain("qmail-send: stopped").And.Contain("messages: 1").And.Contain("deferred: 1").And.Contain("< 5m: 1");
        h.Start();
        SendHarness.WaitUntil(() => Ok(h, "status").Out.Contains("qmail-send: running (command channel open)")).Should().BeTrue();
    }
}
