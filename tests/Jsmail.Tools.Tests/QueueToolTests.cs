using System.Globalization;
using System.Text;

namespace Jsmail.Tools.Tests;

/// <summary>jsmail-qstat and jsmail-qread over a queue filled by the real jsmail-queue and preprocessed by the real jsmail-send.</summary>
public class QueueToolTests
{
    private const string Message = "Subject: test\n\nbody\n";

    [Fact]
    public void Qstat_and_qread_before_and_after_preprocessing()
    {
        using var h = new ToolHome();
        h.UseTestSpawners();
        var first = h.Queue("a@b.example", Message, "ok@local.example", "defer1@local.example", "defer2@remote.example");
        var second = h.Queue("", Message, "defer3@remote.example");

        h.Tool("qmail-qstat").Out.Should().Be("messages in queue: 2\nmessages in queue but not yet preprocessed: 2\n");
        var early = h.Tool("qmail-qread");
        early.ExitCode.Should().Be(0);
        early.Out.Should().BeEmpty("a message in todo/ has no info file yet, and qmail-qread lists info/");

        h.Start();
        h.WaitForLog("success:", 1);
        h.WaitForLog("deferral:", 3);
        h.Stop();

        var stat = h.Tool("qmail-qstat");
        stat.ExitCode.Should().Be(0);
        stat.Out.Should().Be("messages in queue: 2\nmessages in queue but not yet preprocessed: 0\n");

        var read = h.Tool("qmail-qread");
        read.ExitCode.Should().Be(0, read.Out);
        var blocks = Blocks(read.Out);
        blocks.Keys.Should().BeEquivalentTo([first, second]);
        blocks[first].Should().Be(Header(h, first, "a@b.example") +
            "  done\tlocal\tok@local.example\n" +
            "\tlocal\tdefer1@local.example\n" +
            "\tremote\tdefer2@remote.example\n");
        blocks[second].Should().Be(Header(h, second, "") + "\tremote\tdefer3@remote.example\n");

        // sendmail -bp runs bin/qmail-qread, which now exists.
        var bp = Jsmail.TestSupport.Run.Shell("exec \"$1\" -bp </dev/null", args: [h.Home.Bin("sendmail")]);
        bp.Out.Should().Be(read.Out);
    }

    // qmail-qstat's script counts `find queue/mess/*` and `find queue/todo`; the
    // big-todo variant, when queue/todo/0 exists, counts `find queue/todo/*`.
    // queue/intd is never counted (a message being queued already has its mess
    // file): the issue's "(+ intd)" is not what qmail-qstat does, and an
    // administrator comparing the two would see different numbers.
    [Fact]
    public void Qstat_counts_a_split_todo_as_big_todo_homes_have_it_and_never_intd()
    {
        using var h = new ToolHome();
        File.WriteAllText(h.Home.Queue("intd/99"), "");
        var todo = h.Home.Queue("todo");
        Directory.CreateDirectory(Path.Combine(todo, "0"));
        Directory.CreateDirectory(Path.Combine(todo, "1"));
        File.WriteAllText(Path.Combine(todo, "0", "23"), "");
        File.WriteAllText(Path.Combine(todo, "1", "24"), "");
        File.WriteAllText(Path.Combine(todo, "1", "47"), "");
        h.Tool("qmail-qstat").Out.Should().Be("messages in queue: 0\nmessages in queue but not yet preprocessed: 3\n");
    }

    // UNCERTAIN in qmail: a read error after a queue file was opened makes
    // qmail-qread's getln fail, which it reports as "fatal: out of memory" and
    // exit 111. jsmail-qread reports it like an open failure ("warning: trouble
    // with #<id>: <error>") and lists the rest, which is what an administrator
    // looking at a queue expects. Not reproducible here: only opens can be made to fail.
    [Fact]
    public void Qread_reports_trouble_and_goes_on()
    {
        using var h = new ToolHome();
        // an info file whose mess file is gone: qmail-qread's "trouble with #<id>" on stdout
        File.WriteAllBytes(h.Home.Queue("info/5/5"), Encoding.ASCII.GetBytes("Fx@y\0"));
        File.WriteAllBytes(h.Home.Queue("info/5/not-an-id"), []);
        var r = h.Tool("qmail-qread");
        r.ExitCode.Should().Be(0);
        r.Out.Should().Be("warning: trouble with #5: file does not exist\n");
    }

    [Fact]
    public void Qread_without_an_info_directory_is_fatal()
    {
        using var h = new ToolHome();
        Directory.Delete(h.Home.Queue("info/7"));
        var r = h.Tool("qmail-qread");
        r.ExitCode.Should().Be(111);
        r.Out.Should().Be("fatal: unable to opendir info/7: file does not exist\n");
    }

    /// <summary>The listing split into blocks by message id (the order across split directories is readdir's).</summary>
    private static Dictionary<ulong, string> Blocks(string output)
    {
        var blocks = new Dictionary<ulong, string>();
        ulong current = 0;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var hash = line.IndexOf("  #", StringComparison.Ordinal);
            if (!line.StartsWith('\t') && !line.StartsWith("  done", StringComparison.Ordinal) && hash > 0)
            {
                current = ulong.Parse(line[(hash + 3)..line.IndexOf(' ', hash + 3)], CultureInfo.InvariantCulture);
                blocks[current] = "";
            }
            blocks[current] += line + "\n";
        }
        return blocks;
    }

    /// <summary>
    /// qmail-qread's message line, built here independently: the info file's
    /// mtime as "D Mon YYYY HH:MM:SS GMT" (day unpadded, UTC), "  #id  size  <sender> ".
    /// </summary>
    private static string Header(ToolHome h, ulong id, string sender)
    {
        var info = h.Home.Queue($"info/{id % 23}/{id}");
        var t = File.GetLastWriteTimeUtc(info);
        var size = new FileInfo(h.Home.Queue($"mess/{id % 23}/{id}")).Length;
        return string.Create(CultureInfo.InvariantCulture,
            $"{t.Day} {t.ToString("MMM", CultureInfo.InvariantCulture)} {t.Year} {t:HH:mm:ss} GMT  #{id}  {size}  <{sender}> \n");
    }
}
