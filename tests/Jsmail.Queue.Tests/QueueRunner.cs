using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Queue.Tests;

public sealed record QueueRun(int ExitCode, string ErrorPipeText, string Stdout, string Stderr);

/// <summary>
/// Runs the installed jsmail-queue with a message on fd 0 and an envelope on
/// fd 1, optionally offering the custom-error pipe (a FIFO) on fd 4, fd 6 or both,
/// optionally as another user.
/// </summary>
public static class QueueRunner
{
    public static QueueRun Run(TestHome home, byte[] message, byte[] envelope, string errorFds = "6",
        string program = "jsmail-queue", string? asUser = null, int timeoutMs = 60_000)
    {
        using var dir = new TempDir("jsmail-run");
        File.WriteAllBytes(dir["msg"], message);
        File.WriteAllBytes(dir["env"], envelope);
        var redirect = string.Join(" ", errorFds.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(fd => $"{fd}>\"$d/err\""));
        var user = asUser == null ? "" : $"setpriv --reuid={asUser} --regid=$(id -g {asUser}) --clear-groups ";
        var script = $$"""
            d="$1"; mkfifo -m 666 "$d/err"; cat "$d/err" > "$d/errtext" &
            exec 9>"$d/err"
            {{user}}"$0" <"$d/msg" 1<"$d/env" {{redirect}}
            rc=$?
            exec 9>&-
            wait
            printf %s "$rc"
            """;
        var r = TestSupport.Run.Process("/bin/bash", ["-c", script, home.Bin(program), dir.Path], timeoutMs: timeoutMs);
        if (r.TimedOut) throw new TimeoutException("jsmail-queue did not finish: " + r.Err);
        var errText = File.Exists(dir["errtext"]) ? File.ReadAllText(dir["errtext"], Encoding.Latin1) : "";
        return new QueueRun(int.Parse(r.Out), errText, r.Out, r.Err);
    }

    public static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
}
