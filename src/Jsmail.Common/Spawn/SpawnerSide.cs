namespace Jsmail.Common.Spawn;

/// <summary>
/// One delivery command as qmail-send writes it to a spawner (interfaces §2.8):
/// one recipient; a grouped command (docs/spawn-protocol.md) has several, all
/// at one domain, and is answered with a result per recipient, in order.
/// </summary>
/// <param name="Slot">the delivery slot, any byte value</param>
/// <param name="MessageId">the mess path relative to queue/mess, e.g. "20/457"</param>
public sealed record SpawnCommand(byte Slot, byte[] MessageId, byte[] Sender, IReadOnlyList<byte[]> Recipients)
{
    public SpawnCommand(byte slot, byte[] messageId, byte[] sender, byte[] recipient) : this(slot, messageId, sender, [recipient]) { }

    /// <summary>The first (in qmail's protocol the only) recipient.</summary>
    public byte[] Recipient => Recipients[0];
}

/// <summary>
/// The spawner's half of the qmail-send ⇄ spawner wire protocol (interfaces §2.8,
/// §2.9, §4.1), as pure codecs: commands in, results out.
/// </summary>
public static class SpawnerSide
{
    /// <summary>qmail's SPAWN: the slot limit, announced as the spawner's first byte.</summary>
    public const byte SlotLimit = 120;

    public const int MaxMessageId = 100;

    /// <summary>A result: <c>&lt;slot&gt;&lt;status&gt;&lt;text&gt;\0</c>. status and text come as one report.</summary>
    public static byte[] EncodeResult(byte slot, ReadOnlySpan<byte> report)
    {
        var o = new byte[report.Length + 2];
        o[0] = slot;
        report.CopyTo(o.AsSpan(1));
        o[^1] = 0;
        return o;
    }

    public static byte[] EncodeResult(byte slot, byte status, ReadOnlySpan<byte> text)
    {
        var report = new byte[text.Length + 1];
        report[0] = status;
        text.CopyTo(report.AsSpan(1));
        return EncodeResult(slot, report);
    }

    /// <summary>
    /// The message-id checks of qmail's spawner, in its order: a report text
    /// (status letter first) when the id is refused, else null. The id is
    /// counted with its terminating NUL, as qmail keeps it.
    /// </summary>
    public static string? CheckMessageId(ReadOnlySpan<byte> messageId)
    {
        for (var i = 0; i < messageId.Length; i++)
        {
            var b = messageId[i];
            if (i > 0 && b == (byte)'/') continue;
            if (b is < (byte)'0' or > (byte)'9') return "DInternal error: messid has nonnumerics. (#5.3.5)\n";
        }
        if (messageId.Length + 1 > MaxMessageId) return "DInternal error: messid too long. (#5.3.5)\n";
        if (messageId.IsEmpty) return "DInternal error: messid too short. (#5.3.5)\n";
        return null;
    }

    public const string OutOfMemory = "Zqmail-spawn out of memory. (#4.3.0)\n";
    public const string SlotTooBig = "ZInternal error: delnum too big. (#4.3.5)\n";
    public const string SlotInUse = "ZInternal error: delnum in use. (#4.3.5)\n";
    public const string NoHost = "DSorry, address must include host name. (#5.1.3)\n";
    public const string CannotOpen = "Zqmail-spawn unable to open message. (#4.3.0)\n";
    public const string CannotFstat = "Zqmail-spawn unable to fstat message. (#4.3.0)\n";
    public const string WrongType = "ZSorry, message has wrong type. (#4.3.5)\n";
    public const string WrongOwner = "ZSorry, message has wrong owner. (#4.3.5)\n";
    public const string CannotPipe = "Zqmail-spawn unable to create pipe. (#4.3.0)\n";
    public const string CannotFork = "Zqmail-spawn unable to fork. (#4.3.0)\n";
}

/// <summary>
/// Splits the command stream into commands, however the bytes arrive: one slot
/// byte, then message id, sender and recipient, each NUL-terminated. With
/// <paramref name="grouped"/> (the spawner announced the extension) a command
/// may also be <see cref="GroupedDelivery.Marker"/>, the slot, id and sender,
/// then recipients up to an empty field (none at all counts as one empty one).
/// </summary>
public sealed class SpawnCommandDecoder(bool grouped = false)
{
    private enum Stage { Slot, GroupSlot, Id, Sender, Recipient }

    private Stage _stage = Stage.Slot;
    private bool _inGroup;
    private byte _slot;
    private readonly List<byte> _field = new();
    private byte[] _id = [], _sender = [];
    private readonly List<byte[]> _recipients = new();

    /// <summary>True between the first byte of a command and its last.</summary>
    public bool InCommand => _stage != Stage.Slot;

    /// <summary>Consumes <paramref name="data"/> and adds every command it completes.</summary>
    public void Feed(ReadOnlySpan<byte> data, List<SpawnCommand> completed)
    {
        foreach (var b in data)
        {
            switch (_stage)
            {
                case Stage.Slot when grouped && b == GroupedDelivery.Marker:
                    _inGroup = true;
                    _stage = Stage.GroupSlot;
                    continue;
                case Stage.Slot or Stage.GroupSlot:
                    _slot = b;
                    _stage = Stage.Id;
                    continue;
            }
            if (b != 0)
            {
                _field.Add(b);
                continue;
            }
            var field = _field.ToArray();
            _field.Clear();
            switch (_stage)
            {
                case Stage.Id: _id = field; _stage = Stage.Sender; continue;
                case Stage.Sender: _sender = field; _stage = Stage.Recipient; continue;
            }
            if (_inGroup && field.Length > 0)
            {
                _recipients.Add(field);
                continue;
            }
            if (!_inGroup || _recipients.Count == 0) _recipients.Add(field);
            completed.Add(new SpawnCommand(_slot, _id, _sender, _recipients.ToArray()));
            _recipients.Clear();
            _inGroup = false;
            _stage = Stage.Slot;
        }
    }
}
