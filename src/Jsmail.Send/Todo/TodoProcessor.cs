using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;

namespace Jsmail.Send.Todo;

/// <summary>What preprocessing a message produced: which channel files exist now.</summary>
public readonly record struct Preprocessed(bool Local, bool Remote)
{
    public byte Code => Local && Remote ? (byte)'B' : Local ? (byte)'L' : Remote ? (byte)'R' : (byte)'X';
}

/// <summary>
/// Preprocesses one queued message (interfaces §2.4 steps 1 to 6): todo/&lt;id&gt;
/// becomes info/, local/ and remote/ files (and, for a message with an envelope
/// extension, rparam/ for jsmail-rspawn and jsmail-send's reports). Removing the
/// todo link and announcing the message are the caller's (TodoPass). Runs in
/// queue/. Any failure leaves the partial files for the next scan, which
/// starts by removing them.
/// </summary>
/// <param name="syncEachFile">
/// fsync each file as qmail does (JSMAIL_COMPAT=qmail); otherwise the caller
/// makes a whole batch durable with one sync
/// </param>
public sealed class TodoProcessor(RecipientRewriter rewriter, Action<byte[]> log, bool keepParameters, bool syncEachFile)
{
    private const string Who = "qmail-todo: ";

    /// <returns>the channels made, or null when the message stays in todo/ (already logged)</returns>
    public Preprocessed? Prepare(ulong id)
    {
        var todo = QueueLayout.Todo(id);
        var fd = Libc.Open(todo, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) { Warn("unable to open ", todo); return null; }
        var info = -1;
        var chan = new[] { -1, -1 };
        try
        {
            byte[] content;
            try { content = FdRead.All(fd); }
            catch (IOException) { Warn("trouble reading ", todo); return null; }
            if (Libc.StatPath(QueueLayout.Mess(id), out var mess) != 0) { Warn("unable to stat ", QueueLayout.Mess(id)); return null; }

            string[] chanPaths = [QueueLayout.Local(id), QueueLayout.Remote(id)];
            var rparamPath = RemoteParameters.PathOf(id);
            foreach (var p in new[] { chanPaths[0], chanPaths[1], rparamPath })
                if (Libc.Unlink(p) != 0 && Libc.Errno != Errno.ENOENT) { Warn("unable to unlink ", p); return null; }
            var infoPath = QueueLayout.Info(id);
            if (Libc.Unlink(infoPath) != 0 && Libc.Errno != Errno.ENOENT) { Warn("unable to unlink ", infoPath); return null; }
            info = OpenExcl(infoPath);
            if (info < 0) { Warn("unable to create ", infoPath); return null; }
            log(Encoding.ASCII.GetBytes($"new msg {id}\n"));

            var buffers = new[] { new List<byte>(), new List<byte>() };
            var envelopeIndexes = new[] { new List<int>(), new List<int>() };
            var addresses = new[] { new List<byte[]>(), new List<byte[]>() };
            ulong uid = 0, pid = 0;
            var tIndex = 0;
            var pos = 0;
            while (true)
            {
                var nul = content.AsSpan(pos).IndexOf((byte)0);
                if (nul < 0) break; // a partial last record is not a record
                var record = content.AsSpan(pos, nul + 1);
                pos += nul + 1;
                switch (record[0])
                {
                    case (byte)'u': uid = LeadingNumber(record[1..]); break;
                    case (byte)'p': pid = LeadingNumber(record[1..]); break;
                    case (byte)'F':
                        if (!Libc.WriteAll(info, record)) { Warn("trouble writing to ", infoPath); return null; }
                        log(InfoLine(id, mess.Size, record[1..^1], pid, uid));
                        break;
                    case (byte)'T':
                        var r = rewriter.Rewrite(record[1..^1]);
                        var c = r.Local ? 0 : 1;
                        if (chan[c] < 0)
                        {
                            chan[c] = OpenExcl(chanPaths[c]);
                            if (chan[c] < 0) { Warn("unable to create ", chanPaths[c]); return null; }
                        }
                        buffers[c].Add((byte)'T');
                        buffers[c].AddRange(r.Address);
                        buffers[c].Add(0);
                        envelopeIndexes[c].Add(tIndex++);
                        addresses[c].Add(r.Address.ToArray());
                        break;
                    default:
                        Warn("unknown record type in ", todo);
                        return null;
                }
            }

            if (syncEachFile && Libc.Fsync(info) != 0) { Warn("trouble fsyncing ", infoPath); return null; }
            // jsmail-remote sends the parameters on (DSN, SMTPUTF8); jsmail-send's
            // delivery reports honour NOTIFY, ORCPT, RET and ENVID of every recipient.
            // Remote recipients first (their indexes as before), then local ones;
            // durable no later than the channel files.
            if (tIndex > 0 && keepParameters && ReadExtension(id, tIndex) is { } parameters &&
                ChannelParameters.ForChannel(parameters, [.. envelopeIndexes[1], .. envelopeIndexes[0]]) is { } forAll &&
                !WriteRemoteParameters(rparamPath, new RemoteParameters(mess.Size, mess.MTimeSec, [.. addresses[1], .. addresses[0]], forAll)))
                return null;
            for (var c = 0; c < 2; c++)
            {
                if (chan[c] < 0) continue;
                if (!Libc.WriteAll(chan[c], System.Runtime.InteropServices.CollectionsMarshal.AsSpan(buffers[c])))
                { Warn("trouble writing to ", chanPaths[c]); return null; }
                if (syncEachFile && Libc.Fsync(chan[c]) != 0) { Warn("trouble fsyncing ", chanPaths[c]); return null; }
            }
            return new Preprocessed(chan[0] >= 0, chan[1] >= 0);
        }
        finally
        {
            Libc.Close(fd);
            if (info >= 0) Libc.Close(info);
            foreach (var c in chan) if (c >= 0) Libc.Close(c);
        }
    }

    /// <summary>The message's extension, or null: none stored, unreadable or malformed (the message matters more).</summary>
    private static EnvelopeExtension? ReadExtension(ulong id, int recipients)
    {
        var fd = Libc.Open(QueueLayout.Ext(id), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) return null;
        using var fdOwner = new OwnedFd(fd);
        try { return EnvelopeExtensionCodec.Decode(FdRead.All(fd), recipients); }
        catch (IOException) { return null; }
        catch (EnvelopeExtensionException) { return null; }
    }

    /// <summary>
    /// Mode 0640: jsmail-rspawn reads it as qmailr through group qmail. A queue
    /// without rparam/ (not upgraded by install.sh yet) keeps the message and
    /// drops its parameters, as jsmail-queue does without ext/.
    /// </summary>
    private bool WriteRemoteParameters(string path, RemoteParameters parameters)
    {
        byte[] content;
        try { content = parameters.Encode(); }
        catch (RemoteParametersException) { return true; } // cannot happen for a decoded extension; the message matters more
        var old = Libc.Umask(0x17); // 027
        var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_EXCL | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A0 /* 0640 */);
        var errno = Libc.Errno;
        Libc.Umask(old);
        if (fd < 0)
        {
            if (errno == Errno.ENOENT) return true;
            Warn("unable to create ", path);
            return false;
        }
        using var fdOwner = new OwnedFd(fd);
        if (!Libc.WriteAll(fd, content)) { Warn("trouble writing to ", path); return false; }
        if (syncEachFile && Libc.Fsync(fd) != 0) { Warn("trouble fsyncing ", path); return false; }
        return true;
    }

    public static byte[] InfoLine(ulong id, long size, ReadOnlySpan<byte> sender, ulong pid, ulong uid)
    {
        var o = new List<byte>(64 + sender.Length);
        o.AddRange(Encoding.ASCII.GetBytes($"info msg {id}: bytes {size} from <"));
        o.AddRange(LogSafe.Of(sender));
        o.AddRange(Encoding.ASCII.GetBytes($"> qp {pid} uid {uid}\n"));
        return o.ToArray();
    }

    private void Warn(string what, string file) => log(Warning(what, file));

    /// <summary>A warning line as qmail-todo words it: <c>warning: qmail-todo: &lt;what&gt;&lt;file&gt;</c>.</summary>
    public static byte[] Warning(string what, string file) => Encoding.ASCII.GetBytes($"warning: {Who}{what}{file}\n");

    private static int OpenExcl(string path) =>
        Libc.Open(path, Libc.O_WRONLY | Libc.O_EXCL | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1A4 /* 0644, umask 077 makes it 0600 */);

    internal static ulong LeadingNumber(ReadOnlySpan<byte> s)
    {
        ulong n = 0;
        foreach (var b in s)
        {
            if (b is < (byte)'0' or > (byte)'9') break;
            n = unchecked(n * 10 + (ulong)(b - '0'));
        }
        return n;
    }

}
