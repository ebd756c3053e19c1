using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>swaks as the tests run it: a HELO name, a sender, a bounded wait; and its --data files.</summary>
public static class SwaksClient
{
    public static RunResult Send(string server, int port, params string[] extra)
    {
        var args = new List<string> { "--server", server, "--port", port.ToString(), "--helo", "client.example",
            "--from", "s@x", "--timeout", "20" };
        args.AddRange(extra);
        return Run.Process("swaks", args, timeoutMs: 60_000);
    }

    /// <summary>A message body for --data, without its last newline: swaks ends the data with its own CRLF.</summary>
    public static string MessageFile(TempDir dir, string body)
    {
        var f = dir["msg-" + Guid.NewGuid().ToString("N")];
        File.WriteAllText(f, body.TrimEnd('\n'));
        return f;
    }
}
