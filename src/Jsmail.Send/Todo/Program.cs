using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Todo;

/// <summary>
/// jsmail-todo, the ext_todo qmail-todo (interfaces §2.16): preprocesses new
/// messages (§2.4, §2.5) so that jsmail-send keeps delivering however large the
/// todo/ backlog. fd 0 from jsmail-send (S, H, X), fd 1 to it (L log records,
/// D&lt;c&gt;&lt;id&gt; done records, X), fds 2/3 its own jsmail-clean.
/// </summary>
public static class Program
{
    private const long SleepTodo = 1500, SleepForever = 86400;
    private const int MaxPendingOutput = 64 * 1024; // stop preprocessing until jsmail-send has read this much
    private const int MaxBatch = 64; // messages a sync covers: a backlog is announced in steps, deliveries start early

    private static readonly List<byte> s_out = new();
    private static int s_outPos;

    public static int Main()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { return Fatal("cannot start: unable to switch to home directory"); }
        if (Libc.Chdir(home) != 0) return Fatal("cannot start: unable to switch to home directory");
        RecipientRewriter rewriter;
        try { rewriter = ReadControls(new ControlReader(home)); }
        catch (Exception e) when (e is ControlReadException or ControlMissingException)
        { return Fatal("cannot start: unable to read controls"); }
        if (Libc.Chdir("queue") != 0) return Fatal("cannot start: unable to switch to queue directory");
        Libc.Umask(0x3F); // 077

        var pass = NewPass(rewriter);
        var trigger = new Trigger();
        var nextRun = Now();
        IEnumerator<string>? scan = null;

        Span<byte> one = stackalloc byte[1];
        while (true) // the start signal from jsmail-send: any byte
        {
            var n = Libc.Read(0, one);
            if (n == 1) break;
            if (n == 0 || Libc.Errno != Errno.EINTR) return 100;
        }
        Libc.Fcntl(1, Libc.F_SETFL, Libc.Fcntl(1, Libc.F_GETFL, 0) | Libc.O_NONBLOCK);

        var stopping = false;
        var sentExit = false;
        Span<Libc.PollFd> fds = stackalloc Libc.PollFd[3];
        Span<byte> buf = stackalloc byte[64];
        while (true)
        {
            if (stopping && !sentExit) pass.EndOfBatch(); // its D records go before the X
            if (stopping && !sentExit && s_out.Count == 0) { s_out.AddRange("X\0"u8); sentExit = true; }
            if (sentExit && s_out.Count == 0) return 0;

            var now = Now();
            var busy = !stopping && s_out.Count < MaxPendingOutput;
            var timeout = !busy ? (int)SleepForever * 1000
                : scan != null || nextRun <= now ? 0
                : (int)Math.Min(SleepForever, nextRun - now + 1) * 1000;
            fds[0] = new Libc.PollFd { Fd = 0, Events = Libc.POLLIN };
            fds[1] = new Libc.PollFd { Fd = s_out.Count > 0 ? 1 : -1, Events = Libc.POLLOUT };
            fds[2] = new Libc.PollFd { Fd = busy ? trigger.Fd : -1, Events = Libc.POLLIN };
            if (Libc.Poll(fds, timeout) < 0) { Log("warning: qmail-todo: trouble in select\n"); continue; }

            if ((fds[0].Revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) != 0)
            {
                var n = Libc.Read(0, buf);
                if (n == 0) return stopping ? 0 : 1; // jsmail-send is gone: nobody to log to
                for (var i = 0; i < n; i++)
                    switch (buf[i])
                    {
                        case (byte)'H': Reread(home, rewriter); break;
                        case (byte)'X': stopping = true; break;
                        default: Log("warning: qmail-todo: qmail-send speaks an obscure dialect\n"); break;
                    }
            }
            if ((fds[1].Revents & (Libc.POLLOUT | Libc.POLLERR | Libc.POLLHUP)) != 0 && !Flush()) return 1;

            if (!busy) { pass.EndOfBatch(); continue; } // a batch never waits for output room or a restart
            now = Now();
            if (scan == null)
            {
                if ((fds[2].Revents & (Libc.POLLIN | Libc.POLLHUP)) == 0 && now < nextRun) continue;
                trigger.Reset();
                try { scan = Directory.EnumerateFileSystemEntries("todo").GetEnumerator(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Log("alert: unable to opendir todo, sleeping...\n");
                    Thread.Sleep(10_000);
                    continue;
                }
                nextRun = now + SleepTodo;
            }
            string? entry;
            try { entry = scan.MoveNext() ? scan.Current : null; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { entry = null; }
            if (entry == null) { scan.Dispose(); scan = null; pass.EndOfBatch(); }
            else if (ulong.TryParse(Path.GetFileName(entry), System.Globalization.NumberStyles.None, null, out var id)) pass.Add(id);
            if (pass.CleanDied)
            {
                Log("alert: oh no! lost qmail-clean connection! dying...\n");
                stopping = true;
            }
        }
    }

    /// <summary>
    /// Batches of up to MaxBatch messages share one sync; with JSMAIL_COMPAT=qmail,
    /// each message alone with its own fsyncs, as qmail-todo does.
    /// </summary>
    private static TodoPass NewPass(RecipientRewriter rewriter)
    {
        var qmail = Compat.IsQmail;
        var syncFds = qmail ? [] : TodoPass.FilesystemsOf(".", "info", "local", "remote", "rparam");
        return new TodoPass(new TodoProcessor(rewriter, Log, keepParameters: !qmail, syncEachFile: qmail),
            new TodoBatchCore(MaxBatch, preparedDurable: qmail), new CleanClient(2, 3), syncFds,
            (id, code) => s_out.AddRange(Encoding.ASCII.GetBytes($"D{(char)code}{id}\0")), Log);
    }

    private static RecipientRewriter ReadControls(ControlReader c) => new(
        new ControlSet(c.ReadLocals()), new ControlSet(c.ReadList("percenthack")), c.ReadMap("virtualdomains"),
        c.ReadLine("envnoathost", true, "envnoathost"u8.ToArray()));

    private static void Reread(string home, RecipientRewriter rewriter)
    {
        var c = new ControlReader(home);
        try { rewriter.Locals = new ControlSet(c.ReadLocals()); }
        catch (Exception e) when (e is ControlReadException or ControlMissingException)
        { Log("alert: qmail-todo: unable to reread control/locals\n"); return; }
        try { rewriter.VirtualDomains = c.ReadMap("virtualdomains"); }
        catch (ControlReadException) { Log("alert: qmail-todo: unable to reread control/virtualdomains\n"); }
    }

    private static void Log(string line) => Log(Encoding.ASCII.GetBytes(line));

    private static void Log(byte[] line)
    {
        s_out.Add((byte)'L');
        s_out.AddRange(line);
        s_out.Add(0);
    }

    private static bool Flush()
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s_out)[s_outPos..];
        var n = Libc.WriteOnce(1, span);
        if (n < 0) return Libc.Errno == Errno.EAGAIN;
        s_outPos += n;
        if (s_outPos == s_out.Count) { s_out.Clear(); s_outPos = 0; }
        return true;
    }

    private static int Fatal(string what)
    {
        Libc.WriteAll(1, Encoding.ASCII.GetBytes($"Lalert: qmail-todo: {what}\n\0"));
        return 111;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}

/// <summary>
/// lock/trigger, the named pipe qmail-queue writes a byte into: opened for
/// reading without blocking; readable means new mail. Reopened at each scan so
/// that a writer that has gone does not leave it readable for ever.
/// </summary>
public sealed class Trigger
{
    public int Fd { get; private set; } = -1;

    public Trigger() => Reset();

    public void Reset()
    {
        if (Fd >= 0) Libc.Close(Fd);
        Fd = Libc.Open(QueueLayout.Trigger, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
    }
}
