using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Clean;

/// <summary>
/// jsmail-clean, a drop-in qmail-clean (interfaces §7): removes queue files on
/// request of jsmail-send or jsmail-todo. Requests on fd 0, one reply byte
/// each on fd 1. Beyond qmail it also removes the envelope extension
/// (queue/ext) of a finished message, before its mess file so that a crash in
/// between leaves the message to be cleaned again.
/// </summary>
public static class Program
{
    private const long Ossified = 129600; // 36 h, older pid/ files are leftovers of a dead qmail-queue
    private const int PidScanEvery = 30;

    public static int Main()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { return 111; }
        if (Libc.Chdir(home) != 0 || Libc.Chdir("queue") != 0) return 111;

        var input = new NulReader(0);
        var untilPidScan = 0;
        var line = new List<byte>(128);
        while (true)
        {
            if (untilPidScan > 0) untilPidScan--;
            else { RemoveStalePidFiles(); untilPidScan = PidScanEvery; }

            if (!input.ReadRecord(line, CleanRequest.MaxLength + 1)) return 0;
            var request = CleanRequest.Parse(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(line));
            for (var i = 0; i < request.RejectCount; i++) Reply((byte)'x');
            switch (request.Action)
            {
                case CleanAction.Todo:
                    Reply(Remove(QueueLayout.Intd(request.Id), QueueLayout.Todo(request.Id)));
                    break;
                case CleanAction.Foop:
                    Reply(Remove(QueueLayout.Intd(request.Id), QueueLayout.Ext(request.Id), QueueLayout.Mess(request.Id)));
                    break;
            }
        }
    }

    /// <summary>'+' when every file is gone (already missing counts), '!' at the first that could not be removed.</summary>
    private static byte Remove(params string[] paths)
    {
        foreach (var p in paths)
            if (Libc.Unlink(p) != 0 && Libc.Errno != Errno.ENOENT) return (byte)'!';
        return (byte)'+';
    }

    private static void Reply(byte b)
    {
        if (!Libc.WriteAll(1, [b])) Libc.Exit(100);
    }

    private static void RemoveStalePidFiles()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        IEnumerable<string> names;
        try { names = Directory.EnumerateFileSystemEntries("pid").ToList(); }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        foreach (var path in names)
            if (Libc.StatPath(path, out var st) == 0 && now > st.ATimeSec + Ossified)
                Libc.Unlink(path);
    }
}

/// <summary>Reads NUL-terminated records from a descriptor through a small buffer.</summary>
internal sealed class NulReader(int fd)
{
    private readonly byte[] _buf = new byte[1024];
    private int _pos, _len;

    /// <summary>
    /// The next record with its NUL, at most <paramref name="keep"/> bytes kept
    /// (a longer one is still consumed whole and stays over-long). False at EOF
    /// or a read error; a partial record at EOF is dropped.
    /// </summary>
    public bool ReadRecord(List<byte> into, int keep)
    {
        into.Clear();
        while (true)
        {
            if (_pos == _len)
            {
                var n = Libc.Read(fd, _buf);
                if (n <= 0) return false;
                _pos = 0;
                _len = n;
            }
            var b = _buf[_pos++];
            if (into.Count < keep) into.Add(b);
            else if (b == 0) { into.Add(b); return true; } // over-long: the parser sees its length and rejects it
            if (b == 0) return true;
        }
    }
}
