using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Common.Local;

/// <summary>
/// mbox delivery (interfaces §5.11): appended under an exclusive lock, with a
/// From line, Return-Path and Delivered-To, ">"-quoting of "^>*From " lines, a
/// final LF supplied and one blank line; a failure cuts the file back.
/// </summary>
public static class MboxDelivery
{
    public const int LockSeconds = 30;

    public static void Deliver(byte[] path, MessageFile message, DeliveryLines lines, FileSync sync)
    {
        var name = Encoding.UTF8.GetString(path);
        var opening = sync.Opening();
        var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_APPEND | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
        if (fd < 0) throw LocalFailure.Temporary($"Unable to open {name}: {ErrorText.Describe(Libc.Errno)}. (#4.2.1)");
        using var fdOwner = new OwnedFd(fd);
        var locked = Lock(fd);
        var start = Libc.Lseek(fd, 0, Libc.SEEK_END);
        var writer = new FdWriter(fd);
        writer.Write(lines.UfLine);
        writer.Write(lines.RpLine);
        writer.Write(lines.DtLine);
        var quoter = new FromQuoter(writer);
        if (!message.CopyTo(chunk => { quoter.Write(chunk); return true; }, out var readErrno))
            Fail(fd, locked, start, $"Unable to read message: {ErrorText.Describe(readErrno)}. (#4.3.0)");
        quoter.Finish();
        writer.Write("\n"u8);
        if (!writer.Flush()) Fail(fd, locked, start, $"Unable to write {name}: {ErrorText.Describe(writer.Errno)}. (#4.3.0)");
        if (sync.Sync(fd, opening) != 0) Fail(fd, locked, start, $"Unable to write {name}: {ErrorText.Describe(Libc.Errno)}. (#4.3.0)");
    }

    private static void Fail(int fd, bool locked, long start, string text)
    {
        if (locked && start >= 0) Libc.Ftruncate(fd, start);
        throw LocalFailure.Temporary(text);
    }

    /// <summary>flock, given up after 30 seconds as qmail's alarm does; other lock errors mean unlocked.</summary>
    private static bool Lock(int fd)
    {
        var deadline = Environment.TickCount64 + LockSeconds * 1000L;
        while (true)
        {
            if (Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) == 0) return true;
            if (Libc.Errno != Errno.EWOULDBLOCK) return false;
            if (Environment.TickCount64 >= deadline)
                throw LocalFailure.Temporary("File has been locked for 30 seconds straight. (#4.3.0)");
            Thread.Sleep(100);
        }
    }
}

/// <summary>
/// Streams message bytes into an mbox: a line matching ^>*From gets one more
/// '>' in front; a last line without LF gets one.
/// </summary>
public sealed class FromQuoter(FdWriter output)
{
    // At the start of a line the bytes are held until it is known whether they are ">*From ".
    private readonly List<byte> _held = [];
    private bool _atStart = true;
    private bool _lastWasLf = true;
    private bool _any;

    public void Write(ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            _any = true;
            _lastWasLf = b == (byte)'\n';
            if (!_atStart)
            {
                output.Write([b]);
                if (b == (byte)'\n') _atStart = true;
                continue;
            }
            _held.Add(b);
            var verdict = Check(_held);
            if (verdict == null) continue;
            if (verdict == true) output.Write(">"u8);
            output.Write(_held.ToArray());
            _held.Clear();
            _atStart = b == (byte)'\n';
        }
    }

    public void Finish()
    {
        if (_held.Count > 0)
        {
            output.Write(_held.ToArray());
            _held.Clear();
        }
        if (_any && !_lastWasLf) output.Write("\n"u8);
    }

    /// <summary>true: quote; false: don't; null: not known yet.</summary>
    private static bool? Check(List<byte> start)
    {
        var i = 0;
        while (i < start.Count && start[i] == (byte)'>') i++;
        ReadOnlySpan<byte> from = "From "u8;
        for (var j = 0; i + j < start.Count; j++)
        {
            if (j == from.Length) return true;
            if (start[i + j] != from[j]) return false;
        }
        return i + from.Length == start.Count ? true : null;
    }
}
