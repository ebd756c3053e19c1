namespace Jsmail.Common.Os;

public enum ChildFdKind
{
    /// <summary>A descriptor of ours, handed through as it is (a message file, a memfd, our own fd 2).</summary>
    Pass,
    /// <summary>/dev/null, read-only: a child that must not talk to whatever our own descriptor is.</summary>
    DevNull,
    /// <summary>A pipe the child reads, fed with bytes and then closed.</summary>
    Feed,
    /// <summary>A pipe the child writes; its first bytes, up to a cap, are kept.</summary>
    Capture,
    /// <summary>Closed in the child, even when it is one of ours it would inherit (qmail-spp's fd 0).</summary>
    Closed,
}

/// <summary>
/// One descriptor of the child and where it comes from. Descriptors not named
/// are as <see cref="PosixSpawn"/> leaves them: ours that are close-on-exec are
/// closed, the others inherited.
/// </summary>
public readonly struct ChildFd
{
    public int Child { get; private init; }
    public ChildFdKind Kind { get; private init; }
    /// <summary>Pass: our descriptor (≥ 10, or equal to <see cref="Child"/>).</summary>
    public int Parent { get; private init; }
    /// <summary>Feed: what the child is given to read. Not copied: keep it unchanged until the run ends.</summary>
    public ReadOnlyMemory<byte> Input { get; private init; }
    /// <summary>Capture: how many bytes are kept; 0 reads and drops everything.</summary>
    public int Cap { get; private init; }
    /// <summary>Capture: past the cap, kill the child's process group instead of reading on and dropping.</summary>
    public bool KillAtCap { get; private init; }

    public static ChildFd Pass(int child, int parent) => new() { Child = child, Kind = ChildFdKind.Pass, Parent = parent };

    public static ChildFd DevNull(int child) => new() { Child = child, Kind = ChildFdKind.DevNull };

    public static ChildFd Closed(int child) => new() { Child = child, Kind = ChildFdKind.Closed };

    public static ChildFd Feed(int child, ReadOnlyMemory<byte> input) =>
        new() { Child = child, Kind = ChildFdKind.Feed, Input = input };

    public static ChildFd Capture(int child, int cap, bool killAtCap = false) =>
        new() { Child = child, Kind = ChildFdKind.Capture, Cap = cap, KillAtCap = killAtCap };
}

/// <summary>
/// What to run: a program (no PATH search), its argv (argv[0] included), its
/// environment (null: ours), its descriptors and how long it may take. The
/// child always runs in a process group of its own, so that a deadline kills
/// everything it started.
/// </summary>
public sealed class ChildRequest(string program, IReadOnlyList<byte[]> argv)
{
    public string Program { get; } = program;
    public IReadOnlyList<byte[]> Argv { get; } = argv;
    public IReadOnlyList<byte[]>? Environment { get; init; }

    /// <summary>
    /// Strings as the C strings a child is given, UTF-8 encoded: for argv and
    /// environments that come from control files (text), not from the wire.
    /// </summary>
    public static byte[][] Utf8(IReadOnlyList<string> strings)
    {
        var bytes = new byte[strings.Count][];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = System.Text.Encoding.UTF8.GetBytes(strings[i]);
        return bytes;
    }
    public IReadOnlyList<ChildFd> Fds { get; init; } = [];

    /// <summary>
    /// From the start until the child has exited and closed every captured pipe;
    /// past it the process group is killed and the run ends as timed out. Null: no limit.
    /// </summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>
    /// Kill the process group also when the child ends in time, so that nothing
    /// it left behind goes on writing into descriptors we still use.
    /// </summary>
    public bool KillGroupAtExit { get; init; }
}
