using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Spawn;

namespace Jsmail.Send.Send;

/// <summary>The activity log on fd 0 (interfaces §2.14): unbuffered, one write per line.</summary>
public static class ActivityLog
{
    public static void Line(string text) => Write(Encoding.ASCII.GetBytes(text + "\n"));

    /// <summary>A line with a log-safe tail: prefix + logsafe(tail) + LF.</summary>
    public static void Line(string prefix, ReadOnlySpan<byte> tail)
    {
        var p = Encoding.ASCII.GetBytes(prefix);
        var o = new byte[p.Length + tail.Length + 1];
        p.CopyTo(o, 0);
        LogSafe.Of(tail).CopyTo(o, p.Length);
        o[^1] = (byte)'\n';
        Write(o);
    }

    public static void Write(ReadOnlySpan<byte> bytes) => Libc.WriteAll(0, bytes);
}
