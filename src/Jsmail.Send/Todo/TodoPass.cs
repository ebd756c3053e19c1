using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Send.Todo;

/// <summary>
/// The blocking driver of <see cref="TodoBatchCore"/>: prepares each message a
/// scan finds (TodoProcessor), and does what the core asks: the batch's sync
/// (one syncfs of each filesystem it wrote to: the queue's alone, usually), one jsmail-clean request per todo
/// link, and the announcements, handed to <c>announce</c> (jsmail-send's D records).
/// </summary>
/// <param name="syncFds">one directory on each filesystem a batch writes to (<see cref="FilesystemsOf"/>); unused when the core has no Sync step</param>
public sealed class TodoPass(TodoProcessor processor, TodoBatchCore core, CleanClient clean, int[] syncFds,
    Action<ulong, byte> announce, Action<byte[]> log)
{
    /// <summary>
    /// An open descriptor of the first of <paramref name="dirs"/> on each
    /// filesystem they are on (one in all for a queue on one filesystem), so
    /// that a batch's sync covers its files even where a site mounted one of
    /// them apart. Directories that cannot be opened are left out: writing
    /// into them fails anyway, and that is reported per message.
    /// </summary>
    public static int[] FilesystemsOf(params string[] dirs)
    {
        var fds = new List<int>();
        var devices = new List<ulong>();
        foreach (var dir in dirs)
        {
            var fd = Libc.Open(dir, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
            if (fd < 0) continue;
            if (Libc.Fstat(fd, out var st) == 0 && !devices.Contains(st.Dev))
            {
                devices.Add(st.Dev);
                fds.Add(fd);
            }
            else Libc.Close(fd);
        }
        return fds.ToArray();
    }

    /// <summary>Set when jsmail-clean went away: the caller must stop.</summary>
    public bool CleanDied { get; private set; }

    /// <summary>Preprocesses the message of todo/&lt;id&gt;; commits the batch when that fills it.</summary>
    public void Add(ulong id)
    {
        if (CleanDied) return;
        if (processor.Prepare(id) is { } done) Run(core.Prepared(id, done.Code));
    }

    /// <summary>The scan has no more for now (or the caller pauses it): commits what gathered.</summary>
    public void EndOfBatch()
    {
        if (!CleanDied) Run(core.EndOfBatch());
    }

    private void Run(List<TodoAction> actions)
    {
        var pending = new Queue<TodoAction>(actions);
        while (pending.TryDequeue(out var action))
            foreach (var next in Do(action))
                pending.Enqueue(next);
    }

    private bool SyncAll()
    {
        var ok = syncFds.Length > 0;
        foreach (var fd in syncFds) ok &= Libc.Syncfs(fd) == 0;
        return ok;
    }

    private List<TodoAction> Do(TodoAction action)
    {
        switch (action.Step)
        {
            case TodoStep.Sync:
                return core.Synced(SyncAll());
            case TodoStep.Abandon:
                log(TodoProcessor.Warning("trouble fsyncing ", QueueLayout.Info(action.Id)));
                return [];
            case TodoStep.Clean:
                var reply = clean.Remove("todo", action.Id);
                if (reply is { } r && r != (byte)'+')
                    log(Encoding.ASCII.GetBytes($"warning: qmail-clean unable to clean up {QueueLayout.Todo(action.Id)}\n"));
                return core.Cleaned(action.Id, reply);
            case TodoStep.Announce:
                announce(action.Id, action.Code);
                return [];
            case TodoStep.Stop:
                CleanDied = true;
                return [];
            default:
                throw new InvalidOperationException($"unknown step {action.Step}");
        }
    }
}
