using System.Text;
using Jsmail.Common.Envelope;

namespace Jsmail.Common.Queue;

public sealed class RemoteParametersException(string message) : FormatException(message);

/// <summary>
/// <c>queue/rparam/&lt;split&gt;/&lt;id&gt;</c> (docs/jsmail-send.md): what
/// jsmail-rspawn, which runs as qmailr and cannot read <c>remote/</c>, needs to
/// give each remote delivery its envelope parameters. Written by jsmail-todo
/// before the remote channel file, removed by jsmail-send with it.
/// <code>
/// I&lt;mess size&gt;,&lt;mess mtime&gt;\0   the mess file these parameters belong to
/// T&lt;address&gt;\0                       the remote channel file's recipients, in its order
/// X1\0 ... \0                        an extension block (docs/envelope.md) whose
///                                    R indexes count the T records above
/// </code>
/// The I record lets a reader notice a file left behind by a program that does
/// not remove it (a real qmail-send) for a message whose inode has been reused.
/// </summary>
public sealed record RemoteParameters(long MessSize, long MessMtime, IReadOnlyList<byte[]> Recipients, EnvelopeExtension Extension)
{
    public const string Directory = "rparam";

    /// <summary>Relative to queue/.</summary>
    public static string PathOf(ulong id) => $"{Directory}/{id % QueueLayout.Split}/{id}";

    /// <summary>Relative to queue/mess/ (a spawner's directory), for the spawner protocol's <c>&lt;split&gt;/&lt;id&gt;</c>.</summary>
    public static string PathFromMess(ReadOnlySpan<byte> messageId) => $"../{Directory}/{Encoding.ASCII.GetString(messageId)}";

    /// <summary>Whether the file was written for the message with these mess attributes.</summary>
    public bool Belongs(long messSize, long messMtime) => MessSize == messSize && MessMtime == messMtime;

    /// <summary>
    /// The MAIL parameters and the RCPT parameters of the first recipient with
    /// this address, or null when no recipient has it.
    /// </summary>
    public (IReadOnlyList<EsmtpParameter> Mail, IReadOnlyList<EsmtpParameter> Rcpt)? For(ReadOnlySpan<byte> address)
    {
        for (var i = 0; i < Recipients.Count; i++)
            if (address.SequenceEqual(Recipients[i]))
                return (Extension.Sender, Extension.ParametersOf(i));
        return null;
    }

    public byte[] Encode()
    {
        if (MessSize < 0 || MessMtime < 0) throw new RemoteParametersException("negative mess attribute");
        var o = new List<byte>(256);
        o.AddRange(Encoding.ASCII.GetBytes($"I{MessSize},{MessMtime}"));
        o.Add(0);
        foreach (var r in Recipients)
        {
            if (r.AsSpan().IndexOf((byte)0) >= 0) throw new RemoteParametersException("NUL in an address");
            o.Add((byte)'T');
            o.AddRange(r);
            o.Add(0);
        }
        foreach (var index in Extension.Recipients.Keys)
            if (index >= Recipients.Count) throw new RemoteParametersException("parameters for a recipient beyond the list");
        try { o.AddRange(EnvelopeExtensionCodec.Encode(Extension)); }
        catch (EnvelopeExtensionException e) { throw new RemoteParametersException(e.Message); }
        return o.ToArray();
    }

    /// <summary>Decodes a whole file; throws RemoteParametersException on anything malformed or cut short.</summary>
    public static RemoteParameters Decode(ReadOnlySpan<byte> data)
    {
        var nul = data.IndexOf((byte)0);
        if (nul < 0 || nul == 0 || data[0] != (byte)'I') throw new RemoteParametersException("no mess record");
        var (size, mtime) = ParseIdentity(data[1..nul]);
        var pos = nul + 1;
        var recipients = new List<byte[]>();
        while (pos < data.Length && data[pos] == (byte)'T')
        {
            nul = data[pos..].IndexOf((byte)0);
            if (nul < 0) throw new RemoteParametersException("recipient record not terminated");
            recipients.Add(data.Slice(pos + 1, nul - 1).ToArray());
            pos += nul + 1;
        }
        if (recipients.Count == 0) throw new RemoteParametersException("no recipients");
        if (pos == data.Length) throw new RemoteParametersException("no extension block");
        try { return new RemoteParameters(size, mtime, recipients, EnvelopeExtensionCodec.Decode(data[pos..], recipients.Count)); }
        catch (EnvelopeExtensionException e) { throw new RemoteParametersException(e.Message); }
    }

    private static (long, long) ParseIdentity(ReadOnlySpan<byte> text)
    {
        var comma = text.IndexOf((byte)',');
        if (comma < 0) throw new RemoteParametersException("bad mess record");
        return (Number(text[..comma]), Number(text[(comma + 1)..]));
    }

    private static long Number(ReadOnlySpan<byte> digits)
    {
        if (digits.Length is 0 or > 18) throw new RemoteParametersException("bad number");
        long n = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9') throw new RemoteParametersException("bad number");
            n = n * 10 + (b - '0');
        }
        return n;
    }
}
