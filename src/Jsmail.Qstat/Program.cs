using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Qstat;

/// <summary>
/// jsmail-qstat, a drop-in qmail-qstat: how many messages are in the queue and
/// how many of them jsmail-send has not preprocessed yet. Like qmail's script
/// it reports what it could count and exits 0; a directory it cannot read is
/// named on stderr. It reads the queue only, so it needs root or qmailq.
/// </summary>
public static class Program
{
    public static int Main()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException e)
        {
            Libc.WriteAll(2, Encoding.UTF8.GetBytes($"qmail-qstat: fatal: {e.Message}\n"));
            return 111;
        }
        var count = new QueueCount(Path.Combine(home, "queue"));
        var messages = count.Messages();
        var unprocessed = count.Unprocessed();
        foreach (var (path, error) in count.Unreadable)
            Libc.WriteAll(2, Encoding.UTF8.GetBytes($"qmail-qstat: warning: unable to read {path}: {ErrorText.Describe(error)}\n"));
        var output = new FdWriter(1);
        output.Write(Encoding.ASCII.GetBytes(
            $"messages in queue: {messages}\nmessages in queue but not yet preprocessed: {unprocessed}\n"));
        return output.Flush() ? 0 : 111;
    }
}
