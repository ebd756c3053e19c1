using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Inject;

/// <summary>
/// jsmail-inject, a drop-in qmail-inject (interfaces §9): reads a message on
/// stdin, rewrites its header, and queues it ($QMAILQUEUE or bin/qmail-queue)
/// or, with -n, prints it. Fatal errors are "qmail-inject: fatal: ..." on
/// stderr with exit 100 (permanent) or 111 (temporary); nothing is queued.
/// </summary>
public static class Program
{
    public static int Main()
    {
        try
        {
            return Run();
        }
        catch (InjectFatal f)
        {
            if (f.Text.Length > 0) Libc.WriteAll(2, f.Text);
            return f.ExitCode;
        }
        catch (MessageReadException) { return Die(InjectFatal.ReadError()); }
        catch (OutOfMemoryException) { return Die(InjectFatal.Of(InjectFatal.Temporary, "out of memory\n")); }
    }

    private static int Die(InjectFatal f)
    {
        Libc.WriteAll(2, f.Text);
        return f.ExitCode;
    }

    private static int Run()
    {
        var startTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var env = Settings.Environment.Read();
        var mft = Settings.ReadMailFollowupTo(Libc.Getenv("QMAILMFTFILE"));

        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { throw InjectFatal.Of(InjectFatal.Temporary, "internal bug\n"); }
        if (Libc.Chdir(home) != 0) throw InjectFatal.Of(InjectFatal.Temporary, "internal bug\n");

        var controls = Settings.Controls.Read(new ControlReader(home));
        var settings = env.ToSettings(controls, mft, startTime, Libc.Getpid());

        var options = CommandLine.Parse(RawArgs.Read(), settings.Rewriter);
        var injection = new Injection(settings, options);
        var input = MessageChunks.FromFd(0);

        if (!options.Queue)
        {
            var stdout = new FdWriter(1);
            injection.Run(input, () => { }, stdout.Write);
            stdout.Flush(); // qmail-inject does not check this flush
            return 0;
        }

        using var queue = new BufferedQueue(home);
        injection.Run(input, queue.Open, queue.Write);
        var result = queue.Close(injection.Envelope());
        if (result.Success) return 0;
        throw InjectFatal.Of(result.Permanent ? InjectFatal.Permanent : InjectFatal.Temporary,
            [.. result.Message, (byte)'\n']);
    }

    /// <summary>The queue client behind a buffer, opened when the header is done, as qmail-inject does.</summary>
    private sealed class BufferedQueue(string home) : IDisposable
    {
        private QueueClient? _client;
        private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(65536); // not zeroed: only what is read is used
        private int _used;

        public void Open() => _client = QueueClient.Open(home);

        public void Write(ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                if (_used == _buffer.Length) Flush();
                var n = Math.Min(data.Length, _buffer.Length - _used);
                data[..n].CopyTo(_buffer.AsSpan(_used));
                _used += n;
                data = data[n..];
            }
        }

        private void Flush()
        {
            _client!.Write(_buffer.AsSpan(0, _used));
            _used = 0;
        }

        public QueueResult Close(Common.Envelope.QueueEnvelope envelope)
        {
            Flush();
            return _client!.Close(envelope);
        }

        public void Dispose() => _client?.Dispose();
    }
}
