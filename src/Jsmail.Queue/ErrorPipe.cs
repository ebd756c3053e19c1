using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Queue;

/// <summary>
/// The custom-error pipe a caller offers: fd 6 (notqmail, the v2 patch) or
/// fd 4 (the original patch). jsmail's own callers put one pipe on both. The
/// text goes once to each distinct pipe found there.
/// Only descriptors the caller handed over count: they are taken stock of
/// before the runtime opens anything (its signal pipe may land on a free
/// fd 4 or 6), and an inherited descriptor is never close-on-exec.
/// </summary>
internal static class ErrorPipe
{
    private static readonly int[] Candidates = [4, 6];
    private static List<(int Fd, ulong Dev, ulong Ino)> s_offered = [];

    /// <summary>Call first thing in Main.</summary>
    public static void TakeStock()
    {
        var offered = new List<(int, ulong, ulong)>();
        foreach (var fd in Candidates)
        {
            var flags = Libc.Fcntl(fd, Libc.F_GETFD, 0);
            if (flags < 0 || (flags & Libc.FD_CLOEXEC) != 0) continue;
            if (Libc.Fstat(fd, out var st) != 0 || !(st.IsFifo || (st.Mode & 0xF000) == 0xC000)) continue;
            if (offered.Any(o => o.Item2 == st.Dev && o.Item3 == st.Ino)) continue;
            offered.Add((fd, st.Dev, st.Ino));
        }
        s_offered = offered;
    }

    /// <summary>
    /// A scanner's refusal with a text becomes exit 82 with the text on the
    /// error pipe; without a text, or when the caller offered no pipe, it stays
    /// 31 or 71, so the class is never lost.
    /// </summary>
    public static ScanVerdict PassOn(ScanVerdict verdict) =>
        verdict.Text != null && Write(verdict.Text) ? new ScanVerdict(QueueExit.CustomError) : verdict;

    /// <summary>False if the caller offered no pipe (nobody would read the text).</summary>
    public static bool Write(string classAndText)
    {
        var bytes = Encoding.ASCII.GetBytes(classAndText);
        var written = false;
        foreach (var (fd, dev, ino) in s_offered)
        {
            // Still the same pipe: nothing of ours has been opened over it since.
            if (Libc.Fstat(fd, out var st) != 0 || st.Dev != dev || st.Ino != ino) continue;
            if (Libc.WriteAll(fd, bytes)) written = true;
        }
        return written;
    }
}
