using System.Diagnostics;
using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.TestSupport;

namespace Jsmail.Queue.Tests;

/// <summary>
/// The installed jsmail-queued of a test home, running beside the test
/// (optionally under strace, counting its sync calls), with its stderr kept.
/// </summary>
public sealed class RunningQueueService : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private bool _ended;

    /// <summary>jsmail-queued's own pid (not strace's).</summary>
    public int Pid { get; }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    private RunningQueueService(Process process, TestHome home)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null) lock (_log) _log.Append(e.Data).Append('\n');
        };
        _process.BeginErrorReadLine();
        // bounded: 30 s for the start line (strace makes the start slower)
        for (var i = 0; i < 600 && Pid == 0; i++)
        {
            var started = System.Text.RegularExpressions.Regex.Match(Log, @"jsmail-queued: pid (\d+) ");
            if (started.Success) Pid = int.Parse(started.Groups[1].Value);
            else if (_process.HasExited) break;
            else Thread.Sleep(50);
        }
        if (Pid == 0) throw new InvalidOperationException("jsmail-queued did not start: " + Log);
        SocketPath = QueueServiceClient.SocketPath(home.Path);
    }

    public string SocketPath { get; }

    /// <param name="syncCounts">a file for strace -c's table of fsync, fdatasync and syncfs calls; null: no strace</param>
    public static RunningQueueService Start(TestHome home, string? syncCounts = null)
    {
        var program = home.Bin("jsmail-queued");
        var process = syncCounts == null
            ? Run.Start(program, [], redirect: Redirect.Error)
            : Run.Start("strace", ["-f", "-c", "-e", "trace=fsync,fdatasync,syncfs", "-o", syncCounts, program], redirect: Redirect.Error);
        return new RunningQueueService(process, home);
    }

    /// <summary>SIGTERM; returns the exit code once the service has finished.</summary>
    public int Stop()
    {
        Libc.Kill(Pid, Libc.SIGTERM);
        return WaitForExit();
    }

    public void KillHard()
    {
        Libc.Kill(Pid, Libc.SIGKILL);
        WaitForExit();
    }

    private int WaitForExit()
    {
        if (!_process.WaitForExit(60_000)) throw new TimeoutException("jsmail-queued did not end: " + Log);
        _process.WaitForExit(); // the stderr reader has read everything
        _ended = true;
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_ended && !_process.HasExited)
        {
            Libc.Kill(Pid, Libc.SIGKILL);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }

    /// <summary>
    /// One message submitted by another user (setpriv, python3): prints "exit N id N"
    /// for a reply, "closed" when the service hung up without one.
    /// </summary>
    public static RunResult SubmitAs(string uid, string gid, string socketPath)
    {
        const string client = """
            import os, socket, struct, sys
            fd = os.memfd_create("m")
            os.write(fd, b"Subject: x\n\nbody\n")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            env = b"\x01Fa@x\x00Tb@y\x00\x00"
            try:
                socket.send_fds(s, [struct.pack(">I", len(env)) + env], [fd])
                reply = s.recv(1000)
                if len(reply) >= 17:
                    print("exit %d id %d" % (reply[4], struct.unpack(">Q", reply[9:17])[0]))
                else:
                    print("closed")
            except (BrokenPipeError, ConnectionResetError):
                print("closed")
            """;
        return Run.Process("setpriv",
            [$"--reuid={uid}", $"--regid={gid}", "--clear-groups", "/usr/bin/python3", "-c", client, socketPath]);
    }

    /// <summary>A memfd holding the message, as server-mode jsmail-smtpd fills one during DATA.</summary>
    public static OwnedFd MessageFd(byte[] message)
    {
        var fd = new OwnedFd(Libc.MemfdCreate("message", Libc.MFD_CLOEXEC));
        if (!fd.IsOpen || !Libc.WriteAll(fd.Fd, message)) throw new IOException("memfd");
        return fd;
    }
}
