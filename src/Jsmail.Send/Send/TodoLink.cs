using Jsmail.Common.Os;

namespace Jsmail.Send.Send;

public enum TodoRecordKind { Log, Done, Exit, Mangled, Unknown }

public readonly record struct TodoRecord(TodoRecordKind Kind, byte[] Text, byte Code, ulong Id)
{
    /// <summary>Parses one record from jsmail-todo without its NUL (interfaces §2.16).</summary>
    public static TodoRecord Parse(ReadOnlySpan<byte> r)
    {
        if (r.IsEmpty) return new(TodoRecordKind.Unknown, [], 0, 0);
        switch (r[0])
        {
            case (byte)'L': return new(TodoRecordKind.Log, r[1..].ToArray(), 0, 0);
            case (byte)'X': return new(TodoRecordKind.Exit, [], 0, 0);
            case (byte)'D':
                if (r.Length < 3 || r[1] is not ((byte)'L' or (byte)'R' or (byte)'B' or (byte)'X') ||
                    !ulong.TryParse(r[2..], System.Globalization.NumberStyles.None, null, out var id))
                    return new(TodoRecordKind.Mangled, [], 0, 0);
                return new(TodoRecordKind.Done, [], r[1], id);
            default: return new(TodoRecordKind.Unknown, [], 0, 0);
        }
    }
}

/// <summary>jsmail-send's end of the pipes to jsmail-todo: S at start, H on HUP, X while exiting; records back.</summary>
public sealed class TodoLink(int fdOut, int fdIn)
{
    private readonly List<byte> _out = new();
    private readonly List<byte> _in = new();
    private readonly byte[] _buf = new byte[8192];
    private bool _exitSent;

    public int FdOut => fdOut;
    public int FdIn => fdIn;
    public bool Alive { get; private set; } = true;
    public bool Lost { get; private set; }
    public bool HasOutput => _out.Count > 0;

    public void Start()
    {
        if (Libc.Fcntl(fdOut, Libc.F_GETFL, 0) < 0 || Libc.Fcntl(fdIn, Libc.F_GETFL, 0) < 0) { Alive = false; Lost = true; return; }
        Libc.Fcntl(fdOut, Libc.F_SETFL, Libc.Fcntl(fdOut, Libc.F_GETFL, 0) | Libc.O_NONBLOCK);
        Send((byte)'S');
    }

    public void Send(byte b)
    {
        if (!Alive) return;
        _out.Add(b);
        Flush();
    }

    public void RequestExit()
    {
        if (_exitSent || !Alive) return;
        _exitSent = true;
        Send((byte)'X');
    }

    public void Flush()
    {
        if (_out.Count == 0 || !Alive) return;
        var n = Libc.WriteOnce(fdOut, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_out));
        if (n > 0) _out.RemoveRange(0, n);
        else if (n < 0 && Libc.Errno != Errno.EAGAIN) _out.Clear(); // jsmail-todo is gone: its EOF says so
    }

    /// <summary>The complete records available now; at EOF marks the link dead.</summary>
    public List<TodoRecord> Read()
    {
        var records = new List<TodoRecord>();
        var n = Libc.Read(fdIn, _buf);
        if (n < 0) return records;
        if (n == 0)
        {
            Alive = false;
            if (!_exitSent) Lost = true;
            return records;
        }
        foreach (var b in _buf.AsSpan(0, n))
        {
            if (b != 0) { _in.Add(b); continue; }
            var rec = TodoRecord.Parse(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_in));
            _in.Clear();
            if (rec.Kind == TodoRecordKind.Exit)
            {
                Alive = false;
                if (!_exitSent) Lost = true; // jsmail-todo gave up on its own (its jsmail-clean died): so must we
            }
            records.Add(rec);
        }
        return records;
    }
}
