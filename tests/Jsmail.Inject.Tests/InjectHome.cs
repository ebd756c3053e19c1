using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Inject.Tests;

/// <summary>
/// An installed home (install.sh, single-user) with fixed controls: defaulthost
/// h, defaultdomain d.example, plusdomain p.example, idhost id.example; and a
/// QMAILQUEUE stand-in that records what it gets on fd 0 and fd 1.
/// </summary>
public sealed class InjectHome : IDisposable
{
    public TestHome Home { get; } = TestHome.Install();
    public string CaptureScript { get; }

    public InjectHome()
    {
        Home.WriteControl("me", "me.example\n");
        Home.WriteControl("defaulthost", "h\n");
        Home.WriteControl("defaultdomain", "d.example\n");
        Home.WriteControl("plusdomain", "p.example\n");
        Home.WriteControl("idhost", "id.example\n");
        CaptureScript = System.IO.Path.Combine(Home.Path, "capture-queue");
        // fd 1 is the envelope pipe: read it through fd 3 once the message is in.
        File.WriteAllText(CaptureScript,
            "#!/bin/sh\nexec 3<&1\ncat > \"$CAPTURE/msg\"\ncat <&3 > \"$CAPTURE/env\"\necho \"$PPID\" > \"$CAPTURE/ppid\"\n" +
            "[ -z \"$CAPTURE_EXIT\" ] || { printf %s \"$CAPTURE_TEXT\" >&6; exit \"$CAPTURE_EXIT\"; }\nexit 0\n");
        File.SetUnixFileMode(CaptureScript, (UnixFileMode)0x1ED);
    }

    public string Inject => Home.Bin("qmail-inject");

    /// <summary>The environment a run starts from: the caller's without any variable qmail-inject reads, plus USER=joe.</summary>
    public static Dictionary<string, string?> CleanEnvironment()
    {
        var env = new Dictionary<string, string?>();
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>())
            if (key.StartsWith("QMAIL", StringComparison.Ordinal) || key.StartsWith("MAIL", StringComparison.Ordinal) ||
                key is "NAME" or "USER" or "LOGNAME" or "JSMAIL_COMPAT")
                env[key] = null;
        env["USER"] = "joe";
        return env;
    }

    public RunResult Run(byte[] message, IEnumerable<string> args, IDictionary<string, string?>? env = null) =>
        Jsmail.TestSupport.Run.Process(Inject, args, message, env ?? CleanEnvironment(), timeoutMs: 60_000);

    /// <summary>Runs qmail-inject (queue mode) with the capture script as QMAILQUEUE.</summary>
    public (RunResult Result, byte[]? Message, byte[]? Envelope, string? Ppid) Capture(byte[] message, IEnumerable<string> args,
        IDictionary<string, string?>? env = null)
    {
        using var dir = new TempDir("inject-capture");
        var e = new Dictionary<string, string?>(env ?? CleanEnvironment()) { ["QMAILQUEUE"] = CaptureScript, ["CAPTURE"] = dir.Path };
        var r = Jsmail.TestSupport.Run.Process(Inject, args, message, e, timeoutMs: 60_000);
        byte[]? Read(string name) => File.Exists(dir[name]) ? File.ReadAllBytes(dir[name]) : null;
        return (r, Read("msg"), Read("env"), Read("ppid") is { } p ? Encoding.ASCII.GetString(p).Trim() : null);
    }

    /// <summary>Masks what changes from run to run: the generated Date values, Message-ID stamps and VERP times.</summary>
    public static byte[] Mask(byte[] output)
    {
        var s = Encoding.Latin1.GetString(output);
        s = Regex.Replace(s, @"(?m)^((?:Resent-)?Date: )\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000$", "$1<DATE>");
        s = Regex.Replace(s, @"\d{14}\.\d+\.qmail@", "<STAMP>.<PID>.qmail@");
        s = Regex.Replace(s, @"-\d{9,}\.\d+@", "-<TIME>.<PID>@");
        return Encoding.Latin1.GetBytes(s);
    }

    /// <summary>An envelope as text: one record a line (F..., T...), the final NUL dropped.</summary>
    public static string EnvelopeText(byte[] envelope)
    {
        envelope.Should().EndWith(new byte[] { 0, 0 }, "an envelope ends with the last record's NUL and the final NUL");
        var records = Encoding.Latin1.GetString(envelope, 0, envelope.Length - 1).Split('\0');
        return string.Join("\n", records[..^1]) + "\n";
    }

    public void Dispose() => Home.Dispose();
}
