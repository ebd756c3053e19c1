using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Message;
using Jsmail.Common.Os;
using Jsmail.Common.Smtp;

namespace Jsmail.Common.Remote;

/// <summary>What became of a transaction on a session (<see cref="Dialogue.Transact"/>).</summary>
public enum TransactionEnd
{
    /// <summary>Reported, and the session sent QUIT or died: it is done.</summary>
    Closed,
    /// <summary>Reported (K, when it is a delivery's end), and the session is open for the next transaction.</summary>
    Reusable,
    /// <summary>
    /// A reused session turned out gone (EOF, or 421 at RSET or MAIL) before
    /// the peer took anything: nothing reported, the message goes out again on a fresh session.
    /// </summary>
    Stale,
}

/// <summary>
/// qmail-remote's dialogue (§6.6): greeting, HELO (or EHLO, HELO on refusal,
/// when <see cref="RemoteFeatures.Ehlo"/> is on), then per transaction MAIL, a RCPT per recipient
/// with its own report, DATA, the message, the final reply.
/// After EHLO also STARTTLS and AUTH (Dialogue.Security.cs), MAIL and RCPT
/// parameters, MAIL with the RCPTs as one PIPELINING group, BDAT instead of
/// DATA (Dialogue.Chunking.cs) and the peer's LIMITS (Dialogue.Limits.cs), each as
/// <paramref name="features"/> allows (none: qmail-remote's dialogue, compat mode).
/// Every outcome of the dialogue sends QUIT without waiting; a dead connection
/// does not. jsmail-remote runs one delivery (<see cref="Run"/>);
/// jsmail-rspawn's pool keeps the session open after a K and runs the next
/// delivery on it: straight away after an accepted message (RFC 5321
/// 4.1.1.4: the final reply ends the transaction), after RSET otherwise.
/// With PIPELINING, RSET and DATA go in the MAIL and RCPT group (RFC 2920
/// 3.1), so a reused session costs two round trips a message, not four.
/// </summary>
public sealed partial class Dialogue(SmtpConnection smtp, string ip, Report report, RemoteFeatures features)
{
    /// <summary>RCPTs per pipelined write: bounded, so neither side's buffers fill while the other writes.</summary>
    private const int PipelineGroup = 100;

    private Report report = report;
    /// <summary>Without EHLO no extension is known, and none of the features acts (8-bit refusals included): qmail-remote's dialogue.</summary>
    private readonly RemoteFeatures _features = (features & RemoteFeatures.Ehlo) != 0 ? features : RemoteFeatures.None;
    private Dictionary<string, string> _extensions = new();

    /// <summary>The peer's address as reports name it.</summary>
    public string Ip => ip;

    /// <summary>Transactions started on this session (MAILs, those of a split delivery each counted).</summary>
    public int Transactions { get; private set; }

    /// <summary>No transaction is open: none began yet, or the last one's message was accepted. Otherwise the next begins with RSET.</summary>
    private bool _betweenTransactions = true;

    /// <summary>Quit with a message report (QUIT is sent first, its reply never awaited).</summary>
    private void Quit(char letter, string prefix, string suffix, byte[]? replyText)
    {
        try { smtp.Command("QUIT"); } catch (ConnectionDiedException) { }
        report.Add(letter, Report.About(prefix, ip, suffix, replyText));
    }

    /// <summary>Quit with a report of our own words.</summary>
    private void Quit(char letter, string text)
    {
        try { smtp.Command("QUIT"); } catch (ConnectionDiedException) { }
        report.Add(letter, text);
    }

    /// <summary>Ends a session kept open: QUIT, its reply never awaited.</summary>
    public void Close()
    {
        try { smtp.Command("QUIT"); } catch (ConnectionDiedException) { }
    }

    /// <summary>jsmail-remote: one session, one transaction, the parameters jsmail-rspawn gave in the environment.</summary>
    public void Run(byte[] helo, byte[] sender, IReadOnlyList<byte[]> recipients, MessageSource message, DeliveryParameters parameters)
    {
        if (!Open(helo)) return;
        // Compat: qmail-remote knows no parameters. Otherwise a dialogue without EHLO keeps the recipients' NOTIFY for RelayedNotice.
        if (_features == RemoteFeatures.None)
            parameters = Control.Compat.IsQmail ? DeliveryParameters.Empty(recipients.Count) : parameters with { Mail = [] };
        Transact(report, sender, recipients, message, parameters, keepOpen: false);
    }

    /// <summary>
    /// Greeting, hello, STARTTLS and AUTH: true when the session is ready for
    /// MAIL, else false with the failure reported.
    /// </summary>
    public bool Open(byte[] helo)
    {
        try
        {
            var greeting = smtp.ReadReply();
            if (greeting.Code != 220) { Quit('Z', "Connected to ", " but greeting failed", greeting.Text); return false; }

            var extensions = Hello(helo);
            if (extensions == null) return false;
            extensions = Secure(helo, extensions);
            if (extensions == null) return false;
            _extensions = extensions;
            _limits = (_features & RemoteFeatures.Limits) != 0 && extensions.TryGetValue("LIMITS", out var limits)
                ? PeerLimits.Parse(limits) : PeerLimits.None;
            return true;
        }
        catch (ConnectionDiedException)
        {
            report.Add('Z', $"Connected to {ip} but connection died. (#4.4.2)\n");
            return false;
        }
    }

    /// <summary>
    /// One delivery, reported into <paramref name="into"/>: one transaction,
    /// or several when the peer's LIMITS RCPTMAX takes fewer recipients
    /// (Dialogue.Limits.cs). A session whose last transaction was not
    /// accepted sends RSET first; with <paramref name="keepOpen"/> an accepted message leaves
    /// the session open (<see cref="TransactionEnd.Reusable"/>).
    /// </summary>
    public TransactionEnd Transact(Report into, byte[] sender, IReadOnlyList<byte[]> recipients, MessageSource message,
        DeliveryParameters parameters, bool keepOpen)
    {
        report = into;
        // Once for the delivery: a message this peer cannot take is refused for every transaction alike.
        var mailParams = MailParameters(message, sender, recipients, parameters);
        if (mailParams == null) return TransactionEnd.Closed;
        var outgoing = new Outgoing(sender, recipients, message, parameters, mailParams, IsBinary(parameters));
        var batches = Batches(recipients.Count);
        return batches.Count == 1
            ? OneTransaction(outgoing, 0, recipients.Count, keepOpen, more: false, mayBeStale: true)
            : Split(into, outgoing, batches, keepOpen);
    }

    /// <summary>What one delivery sends, whichever of its transactions is running.</summary>
    private sealed record Outgoing(byte[] Sender, IReadOnlyList<byte[]> Recipients, MessageSource Message,
        DeliveryParameters Parameters, string MailParams, bool Binary);

    /// <summary>
    /// MAIL, the RCPTs of recipients [<paramref name="first"/>, +<paramref name="count"/>),
    /// the message (DATA, or BDAT: Dialogue.Chunking.cs), the final reply.
    /// With <paramref name="more"/> (transactions of the same delivery follow)
    /// a refusal leaves the session open (no QUIT) unless it was a 421.
    /// </summary>
    private TransactionEnd OneTransaction(Outgoing o, int first, int count, bool keepOpen, bool more, bool mayBeStale)
    {
        var reused = Transactions++ > 0;
        var messageSent = false;
        var peerTookSomething = false;
        try
        {
            var reset = !_betweenTransactions;
            _betweenTransactions = false;
            var dsn = Uses(RemoteFeatures.Dsn, "DSN");
            var mailLine = SmtpConnection.Line("MAIL FROM:<"u8, AddressQuoting.Quote(o.Sender), Encoding.UTF8.GetBytes(">" + o.MailParams));
            var rcptLines = new List<byte[]>(count);
            for (var i = first; i < first + count; i++)
                rcptLines.Add(SmtpConnection.Line("RCPT TO:<"u8, AddressQuoting.Quote(o.Recipients[i]),
                    Encoding.UTF8.GetBytes(">" + (dsn ? DeliveryParameters.Words(o.Parameters.Rcpt[i], "NOTIFY", "ORCPT") : ""))));

            var chunks = o.Binary || Uses(RemoteFeatures.Chunking, "CHUNKING");
            ServerReply? data = null;
            List<ServerReply> replies;
            if (Uses(RemoteFeatures.Pipelining, "PIPELINING"))
            {
                // DATA joins the group only when the message is known to go (a partial last line is refused before DATA)
                var pipelined = Pipelined(reset, mailLine, rcptLines, withData: !chunks && !o.Message.EndsInPartialLine);
                if (pipelined == null) return ResetRefused(mayBeStale);
                (replies, data) = pipelined.Value;
            }
            else
            {
                if (reset && !Reset()) return ResetRefused(mayBeStale);
                replies = OneByOne(mailLine, rcptLines);
            }
            var mail = replies[0];
            // A reused session the peer has given up on (RFC 5321 3.8: 421 closes it): say nothing, go again afresh.
            if (reused && mayBeStale && mail.Code == 421) return Abandon();
            peerTookSomething = true;
            if (Failed(mail.Code, out var mailLetter))
                return Refused(more, mail.Code, mailLetter, Report.About("Connected to ", ip, " but sender was rejected", mail.Text));

            var anyAccepted = false;
            for (var k = 1; k < replies.Count; k++)
            {
                var r = replies[k];
                if (!Failed(r.Code, out var letter))
                {
                    report.Add('r', dsn ? [] : RelayedNotice(o.Parameters.Rcpt[first + k - 1]));
                    anyAccepted = true;
                    continue;
                }
                report.Add(letter == 'D' ? 'h' : 's', Report.About("", ip, " does not like recipient", r.Text));
            }
            if (!anyAccepted) return Refused(more, 0, 'D', Report.About("Giving up on ", ip, "", null));

            ServerReply final;
            if (chunks)
            {
                if (SendChunks(o.Message, o.Binary, ref messageSent) is not { } chunked) return TransactionEnd.Closed;
                final = chunked.Reply;
                if (Failed(final.Code, out var chunkLetter))
                    return Refused(more, final.Code, chunkLetter,
                        Report.About("", ip, chunked.Last ? " failed after I sent the message" : " failed on BDAT command", final.Text));
            }
            else
            {
                // Known now only for a file; from a pipe, Blast finds it after DATA, as qmail-remote does.
                if (o.Message.EndsInPartialLine) return Refused(more, 0, 'D', Encoding.Latin1.GetBytes(PartialLine));

                if (data == null)
                {
                    smtp.Command("DATA");
                    data = smtp.ReadReply();
                }
                if (Failed(data.Code, out var dataLetter))
                    return Refused(more, data.Code, dataLetter, Report.About("", ip, " failed on DATA command", data.Text));

                if (!Blast(o.Message)) return TransactionEnd.Closed;
                messageSent = true;
                final = smtp.ReadReply();
                if (Failed(final.Code, out var finalLetter))
                    return Refused(more, final.Code, finalLetter, Report.About("", ip, " failed after I sent the message", final.Text));
            }
            if (!keepOpen) { Quit('K', "", " accepted message", final.Text); return TransactionEnd.Closed; }
            _betweenTransactions = true;
            report.Add('K', Report.About("", ip, " accepted message", final.Text));
            return TransactionEnd.Reusable;
        }
        catch (ConnectionDiedException)
        {
            if (reused && mayBeStale && !peerTookSomething) { report.Clear(); return TransactionEnd.Stale; }
            report.Add('Z', $"Connected to {ip} but connection died. {(messageSent ? "Possible duplicate! " : "")}(#4.4.2)\n");
            return TransactionEnd.Closed;
        }
    }

    /// <summary>
    /// A refused transaction's message record. The last transaction of a
    /// delivery quits (qmail-remote's way); one that more follow keeps the
    /// session, which is in step after any reply but a 421 (RFC 5321 3.8: the peer closes).
    /// </summary>
    private TransactionEnd Refused(bool more, int code, char letter, byte[] text)
    {
        if (more && code != 421)
        {
            report.Add(letter, text);
            return TransactionEnd.Reusable;
        }
        try { smtp.Command("QUIT"); } catch (ConnectionDiedException) { }
        report.Add(letter, text);
        return TransactionEnd.Closed;
    }

    /// <summary>RFC 5321 4.1.1.5: RSET ends whatever transaction was open; true when the peer said 250.</summary>
    private bool Reset()
    {
        smtp.Command("RSET");
        return smtp.ReadReply().Code == 250;
    }

    /// <summary>A refused RSET means the session is no good: stale when the delivery may go again afresh.</summary>
    private TransactionEnd ResetRefused(bool mayBeStale)
    {
        if (mayBeStale) return Abandon();
        Close();
        return TransactionEnd.Closed; // nothing reported: the delivery names this transaction's recipients itself
    }

    /// <summary>A stale reused session: nothing of this message reached the peer's queue; nothing is reported.</summary>
    private TransactionEnd Abandon()
    {
        report.Clear();
        return TransactionEnd.Stale;
    }

    /// <summary>MAIL's reply, then one per RCPT sent; after a refused MAIL no RCPT is sent.</summary>
    private List<ServerReply> OneByOne(byte[] mailLine, List<byte[]> rcptLines)
    {
        smtp.Send(mailLine);
        var replies = new List<ServerReply> { smtp.ReadReply() };
        if (Failed(replies[0].Code, out _)) return replies;
        foreach (var line in rcptLines)
        {
            smtp.Send(line);
            replies.Add(smtp.ReadReply());
        }
        return replies;
    }

    /// <summary>
    /// RFC 2920: [RSET,] MAIL, the RCPTs [and DATA] written as groups of at
    /// most <see cref="PipelineGroup"/> recipients, the replies read in
    /// order; null when RSET was refused. A refused MAIL still has the
    /// replies of its group read (they were sent), and no later group is
    /// sent. DATA goes in the last group (3.1: it may end one); when it was
    /// sent but nothing is to follow it (MAIL or every RCPT refused) and the
    /// peer said 354 all the same, the message is ended at once with the
    /// dot alone, as 3.1 asks, and the DATA reply is not returned.
    /// </summary>
    private (List<ServerReply> Replies, ServerReply? Data)? Pipelined(bool reset, byte[] mailLine, List<byte[]> rcptLines, bool withData)
    {
        var replies = new List<ServerReply>();
        var group = new List<byte>();
        if (reset) group.AddRange("RSET\r\n"u8);
        group.AddRange(mailLine);
        var sent = 1;
        var next = 0;
        var dataSent = false;
        while (true)
        {
            for (var n = 0; n < PipelineGroup && next < rcptLines.Count; n++, next++, sent++) group.AddRange(rcptLines[next]);
            if (withData && next == rcptLines.Count) { group.AddRange("DATA\r\n"u8); dataSent = true; }
            smtp.Send(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(group));
            group.Clear();
            if (reset)
            {
                // a refusal leaves what followed it in the group unread: the session is given up
                if (smtp.ReadReply().Code != 250) return null;
                reset = false;
            }
            while (replies.Count < sent) replies.Add(smtp.ReadReply());
            ServerReply? data = dataSent ? smtp.ReadReply() : null;
            var mailRefused = Failed(replies[0].Code, out _);
            if (mailRefused) replies = replies.Take(1).ToList();
            if (!mailRefused && next < rcptLines.Count) continue;
            if (data is { Code: 354 } && (mailRefused || replies.Skip(1).All(r => Failed(r.Code, out _))))
            {
                smtp.Send(".\r\n"u8);
                smtp.ReadReply();
                data = null;
            }
            return (replies, data);
        }
    }

    /// <summary>≥500 permanent, ≥400 (and anything unreadable) temporary.</summary>
    private static bool Failed(int code, out char letter)
    {
        letter = code >= 500 ? 'D' : 'Z';
        return code >= 400 || code < 200;
    }

    /// <summary>The EHLO keywords with their arguments (none after HELO), or null when our name was refused (reported).</summary>
    private Dictionary<string, string>? Hello(byte[] helo)
    {
        if ((_features & RemoteFeatures.Ehlo) != 0)
        {
            smtp.Command("EHLO "u8, helo, default);
            var ehlo = smtp.ReadReply();
            if (ehlo.Code == 250)
            {
                var offered = new Dictionary<string, string>();
                foreach (var (keyword, argument) in ehlo.Extensions) offered.TryAdd(keyword, argument);
                return offered;
            }
        }
        smtp.Command("HELO "u8, helo, default);
        var reply = smtp.ReadReply();
        if (reply.Code == 250) return new();
        Quit('Z', "Connected to ", " but my name was rejected", reply.Text);
        return null;
    }

    /// <summary>
    /// An accepted recipient's record text when DSN did not go on with it (the
    /// peer does not offer it, or control/remotedisable switches it off): the
    /// sender's NOTIFY=SUCCESS is then ours to answer with a "relayed" report
    /// (RFC 3461 §5.2.2, docs/spawn-protocol.md). Empty otherwise, and always
    /// under JSMAIL_COMPAT=qmail: qmail-remote's 'r' has no text.
    /// </summary>
    private byte[] RelayedNotice(IReadOnlyList<EsmtpParameter> rcpt)
    {
        if (Control.Compat.IsQmail || EnvelopeExtension.Find(rcpt, "NOTIFY")?.ValueText is not { } notify) return [];
        return notify.Split(',').Any(w => w.Trim().Equals("SUCCESS", StringComparison.OrdinalIgnoreCase))
            ? Encoding.Latin1.GetBytes(Report.Relayed(ip)) : [];
    }

    /// <summary>Whether the peer offered the extension and control/remotedisable leaves it on.</summary>
    private bool Uses(RemoteFeatures feature, string keyword) => (_features & feature) != 0 && _extensions.ContainsKey(keyword);

    /// <summary>
    /// SIZE, BODY, SMTPUTF8, RET and ENVID as the peer offers them and the
    /// features allow, and plugins' parameters whose keyword it offers; null
    /// when the message cannot go to this peer (reported): over its SIZE
    /// limit, needing SMTPUTF8 it lacks (5.6.7), or 8-bit to a peer without
    /// 8BITMIME (5.6.3: RFC 6152 lets us refuse rather than convert). A
    /// feature switched off does none of its part, refusals included: the
    /// message goes as qmail-remote sends it.
    /// </summary>
    private string? MailParameters(MessageSource message, byte[] sender,
        IReadOnlyList<byte[]> recipients, DeliveryParameters parameters)
    {
        var p = new StringBuilder();
        if (Uses(RemoteFeatures.Size, "SIZE") && message.Size is { } bytes)
        {
            if (long.TryParse(_extensions["SIZE"], out var limit) && limit > 0 && bytes > limit)
            {
                Quit('D', $"{ip} accepts messages of at most {limit} bytes; this one has {bytes}. (#5.3.4)\n");
                return null;
            }
            p.Append(" SIZE=").Append(bytes);
        }

        var utf8 = (_features & RemoteFeatures.SmtpUtf8) != 0 &&
            (parameters.Has("SMTPUTF8") || Utf8Mail.HasNonAscii(sender) || recipients.Any(r => Utf8Mail.HasNonAscii(r)));
        if (utf8 && !_extensions.ContainsKey("SMTPUTF8"))
        {
            Quit('D', $"Connected to {ip} but it does not support SMTPUTF8, which this message needs. (#5.6.7)\n");
            return null;
        }
        if (IsBinary(parameters))
        {
            // Only BDAT carries its CRLFs as they came; DATA would turn them into CR CR LF. RFC 3030 §3: return it, or convert; we return it.
            if ((_features & RemoteFeatures.Chunking) == 0)
            {
                Quit('D', $"Connected to {ip}, but this message is binary (BODY=BINARYMIME) and can only be sent with BDAT, which control/remotedisable switches off. (#5.6.3)\n");
                return null;
            }
            if (!_extensions.ContainsKey("CHUNKING") || !_extensions.ContainsKey("BINARYMIME"))
            {
                Quit('D', $"Connected to {ip} but it does not support CHUNKING and BINARYMIME, and this message is binary (BODY=BINARYMIME). (#5.6.3)\n");
                return null;
            }
            p.Append(" BODY=BINARYMIME");
        }
        else         if ((_features & RemoteFeatures.EightBitMime) != 0 && message.HasEightBit)
        {
            if (!_extensions.ContainsKey("8BITMIME"))
            {
                Quit('D', $"Connected to {ip} but it does not support 8BITMIME, and this message has 8-bit bytes. (#5.6.3)\n");
                return null;
            }
            p.Append(" BODY=8BITMIME");
        }
        if (utf8) p.Append(" SMTPUTF8");
        // RFC 8689 §4.2.1: the session was opened for it (verified TLS, REQUIRETLS offered), and the next hop is held to it too.
        if (smtp.Security.RequireTls) p.Append(" REQUIRETLS");
        // RFC 8689 §5: a non-delivery report of a REQUIRETLS message (empty return path) asks REQUIRETLS of a peer that
        // offers it inside TLS; one that does not still gets the report, which its empty return path is not held to (§4.2.1).
        else if (sender.Length == 0 && parameters.Has("REQUIRETLS") && smtp.Encrypted && _extensions.ContainsKey("REQUIRETLS")) p.Append(" REQUIRETLS");
        if (Uses(RemoteFeatures.Dsn, "DSN")) p.Append(DeliveryParameters.Words(parameters.Mail, "RET", "ENVID"));
        if ((_features & RemoteFeatures.PluginParameters) != 0) p.Append(DeliveryParameters.OfferedPluginWords(parameters.Mail, _extensions));
        return p.ToString();
    }

    /// <summary>BODY=BINARYMIME in the envelope (jsmail-smtpd queued the message as it came, docs/jsmail-smtpd.md).</summary>
    private static bool IsBinary(DeliveryParameters parameters) =>
        EnvelopeExtension.Find(parameters.Mail, "BODY") is { Value: { } body } &&
        Encoding.ASCII.GetString(body).Equals("BINARYMIME", StringComparison.OrdinalIgnoreCase);


    private const string PartialLine = "SMTP cannot transfer messages with partial final lines. (#5.6.2)\n";

    /// <summary>
    /// Sends the message and the final dot; false when it cannot (reported).
    /// Each block is sent once the next one is read, so that the last goes out
    /// with the dot in one write: a dot alone after it would be a second small
    /// segment, held (Nagle) or answered late (delayed ACK) by peers and stacks
    /// that do not send at once.
    /// </summary>
    private bool Blast(MessageSource message)
    {
        var encoder = new DataEncoder();
        var chunk = GC.AllocateUninitializedArray<byte>(65536); // not zeroed: only what is read is used
        // Sized for the message when its size is known: a list is zeroed when made, and most messages are small.
        var output = new List<byte>(message.Size is { } size ? (int)Math.Min(size + size / 8 + 64, 70_000) : 70_000);
        message.Rewind();
        while (true)
        {
            var n = message.Read(chunk);
            if (n < 0) { report.Add('Z', "Unable to read message. (#4.3.0)\n"); return false; }
            if (n == 0) break;
            if (output.Count > 0) smtp.Send(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output));
            output.Clear();
            encoder.Encode(chunk.AsSpan(0, n), output);
        }
        if (!encoder.TryFinish(output))
        {
            report.Add('D', PartialLine);
            return false;
        }
        smtp.Send(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output));
        return true;
    }
}
