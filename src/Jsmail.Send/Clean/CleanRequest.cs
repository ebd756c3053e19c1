namespace Jsmail.Send.Clean;

public enum CleanAction { None, Todo, Foop }

/// <summary>
/// One request of qmail-send to qmail-clean (interfaces §7), parsed with
/// qmail-clean's quirks: a reply 'x' for every non-digit byte after offset 5
/// (its digit check continues the wrong loop), after which the leading number
/// is still acted on; only "todo" (4 bytes) is compared for todo requests.
/// </summary>
public readonly record struct CleanRequest(int RejectCount, CleanAction Action, ulong Id)
{
    public const int MinLength = 7, MaxLength = 100;

    /// <param name="line">the request including its terminating NUL</param>
    public static CleanRequest Parse(ReadOnlySpan<byte> line)
    {
        if (line.Length < MinLength || line.Length > MaxLength || line[^1] != 0)
            return new CleanRequest(1, CleanAction.None, 0);
        var rejects = 0;
        for (var i = 5; i < line.Length - 1; i++)
            if ((byte)(line[i] - (byte)'0') > 9) rejects++;
        var digits = 0;
        ulong id = 0;
        while (5 + digits < line.Length && line[5 + digits] - (byte)'0' is >= 0 and <= 9)
        {
            id = unchecked(id * 10 + (ulong)(line[5 + digits] - (byte)'0'));
            digits++;
        }
        if (digits == 0) return new CleanRequest(rejects + 1, CleanAction.None, 0);
        if (line[..5].SequenceEqual("foop/"u8)) return new CleanRequest(rejects, CleanAction.Foop, id);
        if (line[..4].SequenceEqual("todo"u8)) return new CleanRequest(rejects, CleanAction.Todo, id);
        return new CleanRequest(rejects + 1, CleanAction.None, 0);
    }
}
