using System.Text;
using Jsmail.Common.Message;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp;

namespace Jsmail.Remote;

/// <summary>
/// One SMTP transaction for several recipients, qmail-remote's dialogue (§6.6):
/// greeting, HELO (or EHLO outside compat mode, HELO on refusal), MAIL, a RCPT
/// per recipient with its own report, DATA, the message, the final reply.
/// Every outcome of the dialogue sends QUIT without waiting; a dead connection
/// does not.
/// </summary>
internal sealed class Dialogue(SmtpConnection smtp, string ip, Report report, bool compat)
{
    /// <summary>Quit with a message report (QUIT is sent first, its reply never awaited).</summary>
    private void Quit(char letter, string prefix, string suffix, byte[]? replyText)
    {
        try { smtp.Command("QUIT"); } catch (ConnectionDiedException) { }
        report.Add(letter, Report.About(prefix, ip, suffix, replyText));
    }

    public void Run(byte[] helo, byte[] sender, IReadOnlyList<byte[]> recipients, MessageSource message)
    {
        var dotSent = false;
        try
        {
            var greeting = smtp.ReadReply();
            if (greeting.Code != 220) { Quit('Z', "Connected to ", " but greeting failed", greeting.Text); return; }

            var extensions = Hello(helo);
            if (extensions == null) return;

            var mailParams = MailParameters(extensions, message);
            if (mailParams == null) return;
            smtp.Command("MAIL FROM:<"u8, AddressQuoting.Quote(sender), Encoding.ASCII.GetBytes(">" + mailParams));
            var mail = smtp.ReadReply();
            if (Failed(mail.Code, out var mailLetter))
            {
                Quit(mailLetter, "Connected to ", " but sender was rejected", mail.Text);
                return;
            }

            var anyAccepted = false;
            foreach (var rcpt in recipients)
            {
                smtp.Command("RCPT TO:<"u8, AddressQuoting.Quote(rcpt), ">"u8);
                var r = smtp.ReadReply();
                if (!Failed(r.Code, out var letter)) { report.Add('r'); anyAccepted = true; continue; }
                report.Add(letter == 'D' ? 'h' : 's', Report.About("", ip, " does not like recipient", r.Text));
            }
            if (!anyAccepted) { Quit('D', "Giving up on ", "", null); return; }

            smtp.Command("DATA");
            var data = smtp.ReadReply();
            if (Failed(data.Code, out var dataLetter)) { Quit(dataLetter, "", " failed on DATA command", data.Text); return; }

            if (!Blast(message)) return;
            dotSent = true;
            var final = smtp.ReadReply();
            if (Failed(final.Code, out var finalLetter)) { Quit(finalLetter, "", " failed after I sent the message", final.Text); return; }
            Quit('K', "", " accepted message", final.Text);
        }
        catch (ConnectionDiedException)
        {
            report.Add('Z', $"Connected to {ip} but connection died. {(dotSent ? "Possible duplicate! " : "")}(#4.4.2)\n");
        }
    }

    /// <summary>≥500 permanent, ≥400 (and anything unreadable) temporary.</summary>
    private static bool Failed(int code, out char letter)
    {
        letter = code >= 500 ? 'D' : 'Z';
        return code >= 400 || code < 200;
    }

    /// <summary>The EHLO keywords (empty after HELO), or null when our name was refused (reported).</summary>
    private HashSet<string>? Hello(byte[] helo)
    {
        if (!compat)
        {
            smtp.Command("EHLO "u8, helo, default);
            var ehlo = smtp.ReadReply();
            if (ehlo.Code == 250)
                return ehlo.Extensions.Select(e => e.Keyword + (e.Argument.Length > 0 ? " " + e.Argument : "")).ToHashSet();
        }
        smtp.Command("HELO "u8, helo, default);
        var reply = smtp.ReadReply();
        if (reply.Code == 250) return [];
        Quit('Z', "Connected to ", " but my name was rejected", reply.Text);
        return null;
    }

    /// <summary>SIZE and BODY when the peer offers them; null when the peer's SIZE limit refuses the message (reported).</summary>
    private string? MailParameters(HashSet<string> extensions, MessageSource message)
    {
        var p = new StringBuilder();
        var size = extensions.FirstOrDefault(e => e == "SIZE" || e.StartsWith("SIZE ", StringComparison.Ordinal));
        if (size != null && message.Size is { } bytes)
        {
            if (size.Length > 5 && long.TryParse(size[5..], out var limit) && limit > 0 && bytes > limit)
            {
                try { smtp.Command("QUIT"); } catch (ConnectionDiedException) { }
                report.Add('D', $"{ip} accepts messages of at most {limit} bytes; this one has {bytes}. (#5.3.4)\n");
                return null;
            }
            p.Append(" SIZE=").Append(bytes);
        }
        if (extensions.Contains("8BITMIME") && message.HasEightBit) p.Append(" BODY=8BITMIME");
        return p.ToString();
    }

    /// <summary>Sends the message and the final dot; false when it cannot (reported).</summary>
    private bool Blast(MessageSource message)
    {
        var encoder = new DataEncoder();
        var chunk = new byte[65536];
        var output = new List<byte>(70000);
        message.Rewind();
        while (true)
        {
            var n = message.Read(chunk);
            if (n < 0) { report.Add('Z', "Unable to read message. (#4.3.0)\n"); return false; }
            if (n == 0) break;
            output.Clear();
            encoder.Encode(chunk.AsSpan(0, n), output);
            smtp.Send(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output));
        }
        output.Clear();
        if (!encoder.TryFinish(output))
        {
            report.Add('D', "SMTP cannot transfer messages with partial final lines. (#5.6.2)\n");
            return false;
        }
        smtp.Send(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output));
        return true;
    }
}

/// <summary>
/// The message on fd 0, sent from where fd 0 stands. When it is a file (the
/// spawners give the queue file) its size is known, and whether it holds 8-bit
/// bytes is found on demand (only a peer offering 8BITMIME asks).
/// </summary>
internal sealed class MessageSource
{
    private readonly long _start = -1;
    private bool? _eightBit;

    public long? Size { get; }

    public MessageSource()
    {
        if (Libc.Fstat(0, out var st) != 0 || !st.IsRegular) return;
        _start = Libc.Lseek(0, 0, 1 /* SEEK_CUR */);
        if (_start >= 0) Size = st.Size - _start;
    }

    public bool HasEightBit => _eightBit ??= ScanForEightBit();

    private bool ScanForEightBit()
    {
        if (_start < 0) return false;
        var buf = new byte[65536];
        int n;
        var found = false;
        while (!found && (n = Libc.Read(0, buf)) > 0)
            found = buf.AsSpan(0, n).IndexOfAnyInRange((byte)0x80, (byte)0xff) >= 0;
        Rewind();
        return found;
    }

    public void Rewind()
    {
        if (_start >= 0) Libc.Lseek(0, _start, 0);
    }

    public int Read(Span<byte> buffer) => Libc.Read(0, buffer);
}
