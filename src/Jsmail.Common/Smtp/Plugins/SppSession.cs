using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp.Hooks;

namespace Jsmail.Common.Smtp.Plugins;

/// <summary>
/// qmail-spp 0.42 for one SMTP session (plugin-protocols.md §1): its state
/// (the header buffer, the L queues, the recipient counters, the A switch)
/// and the walk through one section's plugins. Pure apart from the variables
/// it sets (<see cref="SppEnvironment"/>): each event starts with a method
/// named after it, which gives either the first plugin to run or, with
/// nothing to run, the verdict at once; each run's result goes to
/// <see cref="Ran"/>, which gives the next plugin or the verdict. Text a
/// plugin sends the client is written into the session's output as it is
/// read, in qmail-spp's order.
/// </summary>
/// <param name="enhanced">the session's replies carry enhanced status codes (not under JSMAIL_COMPAT=qmail)</param>
/// <param name="compat">JSMAIL_COMPAT=qmail: plugin text goes out byte for byte, CRs included</param>
/// <param name="captureStderr">
/// keep what a plugin writes on fd 2 for the session's log (<see cref="Logged"/>),
/// as server mode does so that each line names its session; otherwise fd 2 is
/// the program's own stderr, as under qmail-smtpd
/// </param>
public sealed class SppSession(SppConfig config, SppEnvironment environment, bool enhanced, bool compat, bool captureStderr = false)
{
    /// <summary>What is kept of a plugin's stderr for the log; the rest is read and dropped.</summary>
    public const int MaxLogged = 4096;

    /// <summary>More output than any plugin's commands need; the rest is read and dropped.</summary>
    public const int MaxOutput = 65536;

    private bool _off;
    private readonly List<byte> _headers = new();
    private readonly List<byte> _laterMail = new(), _laterRcpt = new(), _laterData = new();
    private ulong _rcptCount, _rcptCountAll;

    private IReadOnlyList<byte[]> _plugins = [];
    private int _next;
    private string? _addressVariable;

    /// <summary>The address of the MAIL or RCPT being walked, as plugins left it (C).</summary>
    public byte[]? Address { get; private set; }

    /// <summary>The plugin line that ran last, for the log.</summary>
    public string Current => _next > 0 ? Encoding.UTF8.GetString(_plugins[_next - 1]) : "";

    public int TimeoutSeconds => config.TimeoutSeconds;

    public ChildRequest? Connect(out HookVerdict verdict) =>
        Start(SppSection.Connection, null, null, out verdict);

    public ChildRequest? Helo(byte[] argument, out HookVerdict verdict)
    {
        environment.Set("SMTPHELOHOST", argument);
        return Start(SppSection.Helo, null, null, out verdict);
    }

    public ChildRequest? Mail(byte[] address, List<byte> output, out HookVerdict verdict)
    {
        if (RefusedLater(_laterMail, output, out verdict)) return null;
        _rcptCount = _rcptCountAll = 0;
        return Start(SppSection.Mail, "SMTPMAILFROM", address, out verdict);
    }

    /// <param name="rcptHostsOk">rcpthosts (or RELAYCLIENT, or AUTH) allows the address; plugins see it, the session enforces it</param>
    public ChildRequest? Rcpt(byte[] address, bool rcptHostsOk, List<byte> output, out HookVerdict verdict)
    {
        if (RefusedLater(_laterRcpt, output, out verdict)) return null;
        environment.Set("SMTPRCPTCOUNT", Encoding.ASCII.GetBytes(_rcptCount.ToString()));
        environment.Set("SMTPRCPTCOUNTALL", Encoding.ASCII.GetBytes((++_rcptCountAll).ToString()));
        environment.Set("SMTPRCPTHOSTSOK", rcptHostsOk ? "1"u8 : "0"u8);
        return Start(SppSection.Rcpt, "SMTPRCPTTO", address, out verdict);
    }

    public ChildRequest? Data(List<byte> output, out HookVerdict verdict)
    {
        if (RefusedLater(_laterData, output, out verdict)) return null;
        return Start(SppSection.Data, null, null, out verdict);
    }

    /// <param name="method">login or plain, as the Gentoo qmail-spp AUTH hook names them</param>
    public ChildRequest? Auth(byte[] user, string method, out HookVerdict verdict)
    {
        environment.Set("SMTPAUTHUSER", user);
        environment.Set("SMTPAUTHMETHOD", Encoding.ASCII.GetBytes(method));
        return Start(SppSection.Auth, null, null, out verdict);
    }

    /// <summary>A recipient got its 250: SMTPRCPTCOUNT counts it from the next RCPT on.</summary>
    public void RecipientAccepted() => _rcptCount++;

    /// <summary>RSET: headers, L queues and counters are dropped.</summary>
    public void Rset()
    {
        _headers.Clear();
        _laterMail.Clear();
        _laterRcpt.Clear();
        _laterData.Clear();
        _rcptCount = _rcptCountAll = 0;
    }

    /// <summary>A message body begins: its extra headers (after the Received line), then the state is reset as by RSET.</summary>
    public byte[] StartMessage()
    {
        var headers = _headers.ToArray();
        Rset();
        return headers;
    }

    /// <summary>The plugin asked for last ran: its output is applied, then the next plugin or the verdict.</summary>
    public ChildRequest? Ran(ChildResult result, List<byte> output, out HookVerdict verdict)
    {
        var plugin = _plugins[_next - 1];
        byte terminal = 0;
        foreach (var line in SppOutput.Read(result.Output(1)))
        {
            Apply(line, output);
            if (line.IsTerminal) terminal = line.Command;
        }
        if (Failure(result) is { } why)
        {
            byte[] text = [.. "qmail-spp failure: "u8, .. plugin, .. Encoding.ASCII.GetBytes($": {why} (#4.3.0)")];
            SmtpReplies.Append(output, 451, "4.3.0", text, enhanced);
            verdict = new HookVerdict(HookDecision.Reject);
            return null;
        }
        switch (terminal)
        {
            case (byte)'E': verdict = new HookVerdict(HookDecision.Reject); return null;
            case (byte)'A' or (byte)'N': verdict = new HookVerdict(HookDecision.Accept); return null;
            case (byte)'O': verdict = new HookVerdict(HookDecision.Accept) { SkipBuiltinChecks = true }; return null;
            case (byte)'R' or (byte)'D': verdict = new HookVerdict(HookDecision.Disconnect); return null;
        }
        return Next(out verdict);
    }

    private ChildRequest? Start(SppSection section, string? addressVariable, byte[]? address, out HookVerdict verdict)
    {
        Address = address;
        _addressVariable = addressVariable;
        _plugins = [];
        _next = 0;
        if (_off) { verdict = HookVerdict.Continue; return null; }
        if (addressVariable != null) environment.Set(addressVariable, address);
        _plugins = config.Plugins(section);
        return Next(out verdict);
    }

    private ChildRequest? Next(out HookVerdict verdict)
    {
        verdict = HookVerdict.Continue;
        return _next < _plugins.Count ? Request(_plugins[_next++]) : null;
    }

    /// <summary>An L line queued for this command: it is refused with the queued text, before any plugin runs.</summary>
    private static bool RefusedLater(List<byte> later, List<byte> output, out HookVerdict verdict)
    {
        verdict = HookVerdict.Continue;
        if (later.Count == 0) return false;
        output.AddRange(later);
        verdict = new HookVerdict(HookDecision.Reject);
        return true;
    }

    /// <summary>
    /// A line starting with ':' runs as <c>/bin/sh -c</c> the rest; any
    /// other is the program's path with no arguments. fd 0 is closed, fd 1
    /// is read, fd 2 is the log (or kept for it).
    /// </summary>
    private ChildRequest Request(byte[] line)
    {
        var shell = line[0] == (byte)':';
        var program = shell ? "/bin/sh" : Encoding.UTF8.GetString(line);
        byte[][] argv = shell ? ["/bin/sh"u8.ToArray(), "-c"u8.ToArray(), line[1..]] : [line];
        return new ChildRequest(program, argv)
        {
            Environment = environment.Entries,
            Fds = [ChildFd.Closed(0), ChildFd.Capture(1, MaxOutput), captureStderr ? ChildFd.Capture(2, MaxLogged) : ChildFd.Pass(2, 2)],
            TimeLimit = TimeSpan.FromSeconds(config.TimeoutSeconds),
        };
    }

    private void Apply(SppLine line, List<byte> output)
    {
        switch (line.Command)
        {
            case (byte)'H':
                _headers.AddRange(line.Argument);
                _headers.Add((byte)'\n');
                break;
            case (byte)'C':
                if (_addressVariable == null) break;
                Address = line.Text;
                environment.Set(_addressVariable, Address);
                break;
            case (byte)'S': environment.Put(line.Text); break;
            case (byte)'U': environment.Unset(line.Text); break;
            case (byte)'A': _off = true; break;
            case (byte)'E' or (byte)'R' or (byte)'P': Send(line.Text, output); break;
            case (byte)'L':
                var queue = line.Argument.Length == 0 ? null : line.Argument[0] switch
                {
                    (byte)'M' => _laterMail,
                    (byte)'R' => _laterRcpt,
                    (byte)'D' => _laterData,
                    _ => null,
                };
                if (queue != null) Send(line.Text.AsSpan(1), queue);
                break;
        }
    }

    /// <summary>One line to the client. Outside compat mode a CR is a space: a plugin's text is one line.</summary>
    private void Send(ReadOnlySpan<byte> text, List<byte> output)
    {
        var start = output.Count;
        output.AddRange(text);
        if (!compat)
            for (var i = start; i < output.Count; i++) if (output[i] == (byte)'\r') output[i] = (byte)' ';
        output.Add((byte)'\r');
        output.Add((byte)'\n');
    }

    /// <summary>The lines a plugin run wrote on fd 2, when they are kept for the session's log.</summary>
    public static IEnumerable<string> Logged(ChildResult result)
    {
        var text = result.Output(2);
        var start = 0;
        while (start < text.Length)
        {
            var lf = Array.IndexOf(text, (byte)'\n', start);
            var end = lf < 0 ? text.Length : lf;
            if (end > start) yield return Encoding.UTF8.GetString(text, start, end - start);
            start = end + 1;
        }
    }

    /// <summary>qmail-spp's words for a run that went wrong; null when only the output counts.</summary>
    private static string? Failure(ChildResult result) => result.End switch
    {
        ChildEnd.Exited => result.Code == 120 ? "can't execute" : null,
        ChildEnd.Signalled => "child crashed",
        ChildEnd.CouldNotStart => "can't execute",
        ChildEnd.TimedOut => "timed out",
        _ => "can't pipe()",
    };
}
