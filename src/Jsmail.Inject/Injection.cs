using Jsmail.Common.Envelope;
using Jsmail.Common.Message;

namespace Jsmail.Inject;

/// <summary>How recipients are chosen (-a, -h, -A, -H).</summary>
public enum RecipientStrategy { Default, Args, Header, ArgsAndHeader }

/// <summary>The command line of qmail-inject, parsed.</summary>
public sealed class InjectOptions
{
    public RecipientStrategy Strategy { get; set; } = RecipientStrategy.Default;
    public bool Queue { get; set; } = true;
    /// <summary>-f, already qualified and unquoted; null when not given.</summary>
    public byte[]? Sender { get; set; }
    public List<byte[]> Recipients { get; } = [];
}

/// <summary>
/// One run of qmail-inject over a message: splits header from body as qmail's
/// headerbody does, rewrites the header, hands header and body to a sink and
/// works out the envelope. I/O stays with the caller: the input and the sink
/// may be stdin and stdout, the queue, or memory.
/// </summary>
public sealed class Injection(InjectSettings settings, InjectOptions options)
{
    private readonly HeaderRewriter _headerWriter = new(settings, options.Sender);
    private byte[]? _field; // the field being read, its continuation lines still to come
    private byte[]? _firstBodyLine; // the line that was no header field, when one ended the header
    private byte[] _header = []; // the header as written

    /// <summary>
    /// Reads the message, calling <paramref name="open"/> once the header is
    /// done (qmail-inject starts the queue there) and then
    /// <paramref name="write"/> with the output in order. The header ends at
    /// an empty line or at the first line that is no header field (that line
    /// starts the body, after an added empty line); a last line without LF
    /// gets one, as qmail's getln gives it.
    /// </summary>
    public void Run(MessageChunks input, Action open, Action<ReadOnlySpan<byte>> write)
    {
        var header = new HeaderReader(HeaderLineEnds.Lf);
        HeaderLineSink take = TakeLine;
        var rest = ReadOnlySpan<byte>.Empty;
        while (!header.Done)
        {
            var chunk = input.Next();
            if (chunk.IsEmpty) header.Finish(take);
            else rest = chunk[header.Feed(chunk, take)..];
        }
        if (_field != null) _headerWriter.Field(_field);
        Finish(open, write);
        if (header.End == HeaderEnd.EndOfInput) return; // no body at all: qmail adds no blank line
        write("\n"u8);
        if (_firstBodyLine != null) write(_firstBodyLine);

        var last = (byte)'\n';
        while (true)
        {
            if (!rest.IsEmpty)
            {
                write(rest);
                last = rest[^1];
            }
            rest = input.Next();
            if (rest.IsEmpty) break;
        }
        if (last != (byte)'\n') write("\n"u8);
    }

    /// <summary>One header line: a field, its continuation, or the first line of the body (false).</summary>
    private bool TakeLine(ReadOnlySpan<byte> line)
    {
        byte[] whole = line[^1] == (byte)'\n' ? line.ToArray() : [.. line, (byte)'\n'];
        if (_field != null)
        {
            if (whole[0] is (byte)' ' or (byte)'\t')
            {
                _field = [.. _field, .. whole];
                return true;
            }
            _headerWriter.Field(_field);
            _field = null;
        }
        if (whole.AsSpan().StartsWith("From "u8))
            _field = [.. "MBOX-Line: "u8, .. whole];
        else if (HeaderField.IsValid(whole))
            _field = whole;
        else
        {
            _firstBodyLine = whole;
            return false;
        }
        return true;
    }

    private void Finish(Action open, Action<ReadOnlySpan<byte>> write)
    {
        var header = _headerWriter.Finish(printReturnPath: !options.Queue);
        _header = header;
        open();
        write(header);
    }

    /// <summary>The envelope (after <see cref="Run"/>): argv recipients, then header recipients unless -a.
    /// Addresses end at a NUL, as C strings do. With <see cref="InjectSettings.Utf8"/> a message that
    /// needs SMTPUTF8 carries the mark jsmail-smtpd gives <c>MAIL ... SMTPUTF8</c> (docs/envelope.md).</summary>
    public QueueEnvelope Envelope()
    {
        var recipients = new List<byte[]>();
        foreach (var r in options.Recipients) recipients.Add(HeaderRewriter.CString(r));
        if (UsesHeader(options))
            foreach (var r in _headerWriter.HeaderRecipients) recipients.Add(HeaderRewriter.CString(r));
        var envelope = new QueueEnvelope(HeaderRewriter.CString(_headerWriter.Sender!), recipients);
        return settings.Utf8 && Utf8Mail.NeedsSmtpUtf8(envelope.Sender, recipients, _header) ? Utf8Mail.Marked(envelope) : envelope;
    }

    /// <summary>Whether header recipients count; Default has been resolved by then.</summary>
    public static bool UsesHeader(InjectOptions o) => o.Strategy != RecipientStrategy.Args;
}
