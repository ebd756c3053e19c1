using Jsmail.Common.Envelope;

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
    private readonly HeaderRewriter _header = new(settings, options.Sender);

    /// <summary>
    /// Reads the message, calling <paramref name="open"/> once the header is
    /// done (qmail-inject starts the queue there) and then
    /// <paramref name="write"/> with the output in order.
    /// </summary>
    public void Run(MessageInput input, Action open, Action<ReadOnlySpan<byte>> write)
    {
        byte[]? field = null;
        while (true)
        {
            var next = input.ReadLine();
            if (next == null)
            {
                if (field != null) _header.Field(field);
                Finish(open, write);
                return; // no body at all: qmail adds no blank line
            }
            if (field != null)
            {
                if (next[0] is (byte)' ' or (byte)'\t')
                {
                    field = [.. field, .. next];
                    continue;
                }
                _header.Field(field);
            }
            if (next.Length == 1)
            {
                Finish(open, write);
                write(next);
                break;
            }
            if (next.AsSpan().StartsWith("From "u8))
                field = [.. "MBOX-Line: "u8, .. next];
            else if (HeaderField.IsValid(next))
                field = next;
            else
            {
                Finish(open, write);
                write("\n"u8);
                write(next);
                break;
            }
        }
        input.CopyRest(write);
    }

    private void Finish(Action open, Action<ReadOnlySpan<byte>> write)
    {
        var header = _header.Finish(printReturnPath: !options.Queue);
        open();
        write(header);
    }

    /// <summary>The envelope (after <see cref="Run"/>): argv recipients, then header recipients unless -a.
    /// Addresses end at a NUL, as C strings do.</summary>
    public QueueEnvelope Envelope()
    {
        var recipients = new List<byte[]>();
        foreach (var r in options.Recipients) recipients.Add(HeaderRewriter.CString(r));
        if (UsesHeader(options))
            foreach (var r in _header.HeaderRecipients) recipients.Add(HeaderRewriter.CString(r));
        return new QueueEnvelope(HeaderRewriter.CString(_header.Sender!), recipients);
    }

    /// <summary>Whether header recipients count; Default has been resolved by then.</summary>
    public static bool UsesHeader(InjectOptions o) => o.Strategy != RecipientStrategy.Args;
}
