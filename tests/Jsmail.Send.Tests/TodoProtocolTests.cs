using System.Text;
using Jsmail.Common.Queue;
using Jsmail.TestQueue;
using Jsmail.TestSupport;

namespace Jsmail.Send.Tests;

/// <summary>
/// jsmail-send's side of the ext_todo pipes (interfaces §2.16, §16 item 55),
/// with faketodo.py as qmail-todo under the real jsmail-start: what send writes
/// on fd 7, what it does with the records it reads on fd 8.
/// </summary>
public class TodoProtocolTests
{
    private static string TodoInput(SendHarness h)
    {
        var path = Path.Combine(h.Home.Path, "todo-input");
        return File.Exists(path) ? File.ReadAllText(path, Encoding.Latin1) : "";
    }

    private static void TodoSends(SendHarness h, string records) =>
        File.AppendAllText(Path.Combine(h.Home.Path, "todo-script"), records, Encoding.Latin1);

    /// <summary>
    /// A message as monolithic qmail-send leaves it after preprocessing (§2.4
    /// steps 1-7): mess, info and the channel files; todo and intd gone.
    /// </summary>
    private static ulong Preprocessed(SendHarness h, string sender, string[] local, string[] remote)
    {
        var queue = h.Home.Queue("");
        var id = new QueueFiller(queue).Add("Subject: s\n\nbody\n"u8, Encoding.Latin1.GetBytes(sender), []);
        File.Delete(Path.Combine(queue, QueueLayout.Todo(id)));
        File.Delete(Path.Combine(queue, QueueLayout.Intd(id)));
        File.WriteAllText(Path.Combine(queue, QueueLayout.Info(id)), "F" + sender + "\0", Encoding.Latin1);
        if (local.Length > 0)
            File.WriteAllText(Path.Combine(queue, QueueLayout.Local(id)), string.Concat(local.Select(r => "T" + r + "\0")), Encoding.Latin1);
        if (remote.Length > 0)
            File.WriteAllText(Path.Combine(queue, QueueLayout.Remote(id)), string.Concat(remote.Select(r => "T" + r + "\0")), Encoding.Latin1);
        return id;
    }

    [Fact] // §16 item 55
    public void Send_writes_S_relays_log_records_verbatim_and_delivers_what_each_D_record_announces()
    {
        using var h = new SendHarness();
        h.Replace("qmail-todo", "faketodo.py");
        h.Start();
        SendHarness.WaitUntil(() => TodoInput(h).Length > 0).Should().BeTrue("jsmail-send writes to jsmail-todo at start");
        h.WaitForLog("status: local 0/10 remote 0/20");
        TodoInput(h).Should().Be("S");

        var local = Preprocessed(h, "s@x", ["a@local.example", "b@local.example"], []);
        var remote = Preprocessed(h, "s@x", [], ["c@remote.example"]);
        var both = Preprocessed(h, "s@x", ["d@local.example"], ["e@remote.example", "f@remote.example"]);
        var none = Preprocessed(h, "s@x", [], []);
        // not log-safe on purpose: qmail-send writes qmail-todo's text as it is
        string[] lines = [$"new msg {local}\n", $"info msg {local}: bytes 5 from <odd%\tsender> qp 1 uid 2\n",
            "warning: qmail-todo: unable to open todo/77\n"];
        TodoSends(h, string.Concat(lines.Select(l => "L" + l + "\0")) + $"DL{local}\0DR{remote}\0DB{both}\0DX{none}\0");
        h.WaitForLog("end msg", 4);

        foreach (var line in lines) h.Log.Should().Contain(line);
        foreach (var id in new[] { local, remote, both, none }) h.LogLines.Should().Contain($"end msg {id}");
        // the deliveries monolithic qmail-send starts after preprocessing: every record of each channel file made
        h.Delivered.Select(l => l.Split(' ')).Select(f => $"{f[0]} {f[1].Split('/')[1]} {f[3]}").Order().Should().Equal(new[]
        {
            $"L {local} a@local.example", $"L {local} b@local.example", $"R {remote} c@remote.example",
            $"L {both} d@local.example", $"R {both} e@remote.example", $"R {both} f@remote.example",
        }.Order());
        h.LogLines.Should().NotContain(l => l.Contains($"msg {none} to "));
        h.ShouldEmpty("info", "local", "remote", "mess");

        h.Stop();
        h.LogLines[^1].Should().Be("status: exiting");
        TodoInput(h).Should().MatchRegex("^SX+$", "jsmail-send says X until jsmail-todo answers X");
    }

    [Fact] // §2.16: H on SIGHUP; an unparsable record is a warning, not the end
    public void Hup_is_forwarded_as_H_and_mangled_records_are_warnings()
    {
        using var h = new SendHarness();
        h.Replace("qmail-todo", "faketodo.py");
        h.Start();
        h.WaitForLog("status: local 0/10 remote 0/20");
        Jsmail.Common.Os.Libc.Kill(h.SendPid, 1);
        SendHarness.WaitUntil(() => TodoInput(h) == "SH").Should().BeTrue(TodoInput(h));
        TodoSends(h, "DQ12\0D\0?what\0Lstill here\n\0");
        h.WaitForLog("still here");
        h.LogLines.Should().ContainInOrder(
            "warning: qmail-send unable to understand qmail-todo: report mangled",
            "warning: qmail-send unable to understand qmail-todo: report mangled",
            "warning: qmail-send unable to understand qmail-todo",
            "still here");
    }
}
