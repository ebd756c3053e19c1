using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Smtp.Session;

namespace Jsmail.Release;

/// <summary>
/// jsmail-release FILE...: lets quarantined messages go (docs/milter.md).
/// Each FILE is a message a milter quarantined, as it was delivered to the
/// quarantine address (a maildir file, say): its X-Jsmail-Quarantine fields
/// name its real envelope, and it is queued again for that envelope without
/// them, through the queue program as qmail-inject queues. Exit 0 when every
/// file was queued, 100 when one is not a quarantined message, 111 when the
/// queue refused one for now; each failure is one line on stderr. It never
/// deletes a file: the operator removes what was released.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0) return Fail("usage: jsmail-release FILE...", 100);
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { return Fail("unable to find the qmail home", 111); }
        var worst = 0;
        foreach (var file in args)
        {
            byte[] held;
            try { held = File.ReadAllBytes(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                worst = Math.Max(worst, Fail($"{file}: unable to read: {e.Message}", 111));
                continue;
            }
            if (MessageQuarantine.Release(held) is not { } released)
            {
                worst = Math.Max(worst, Fail($"{file}: not a quarantined message (no X-Jsmail-Quarantine fields on top)", 100));
                continue;
            }
            var queue = QueueClient.Open(home);
            queue.Write(released.Message);
            var result = queue.Close(released.Envelope);
            queue.Dispose();
            if (!result.Success)
                worst = Math.Max(worst, Fail($"{file}: {Encoding.UTF8.GetString(result.Message)}", result.Permanent ? 100 : 111));
        }
        return worst;
    }

    private static int Fail(string text, int code)
    {
        Libc.WriteAll(2, Encoding.UTF8.GetBytes("jsmail-release: " + text + "\n"));
        return code;
    }
}
