namespace Jsmail.Common.Queue;

/// <summary>Paths inside queue/, relative to it, exactly as qmail names them.</summary>
public static class QueueLayout
{
    /// <summary>qmail's conf-split: mess, info, local, remote (and jsmail's ext) are split into this many subdirectories.</summary>
    public const int Split = 23;

    public static ulong SplitOf(ulong id) => id % Split;

    public static string Pid(int pid, long time, long seq) => $"pid/{pid}.{time}.{seq}";
    public static string Mess(ulong id) => $"mess/{id % Split}/{id}";
    public static string Intd(ulong id) => $"intd/{id}";
    public static string Todo(ulong id) => $"todo/{id}";
    public static string Info(ulong id) => $"info/{id % Split}/{id}";
    public static string Local(ulong id) => $"local/{id % Split}/{id}";
    public static string Remote(ulong id) => $"remote/{id % Split}/{id}";
    public static string Bounce(ulong id) => $"bounce/{id}";

    /// <summary>jsmail's envelope-extension store (docs/envelope.md); qmail's programs never look here.</summary>
    public static string Ext(ulong id) => $"ext/{id % Split}/{id}";

    /// <summary>jsmail's hold mark (docs/jsmail.md): a held message is not delivered by jsmail-send until released.</summary>
    public static string Hold(ulong id) => $"hold/{id}";

    /// <summary>jsmail-send's command socket (docs/jsmail.md), in a directory only its owner enters.</summary>
    public const string CommandSocket = "command/send";

    public const string Trigger = "lock/trigger";
    public const string SendMutex = "lock/sendmutex";
    public const string Tcpto = "lock/tcpto";

    /// <summary>Directories split by id, in the order install.sh creates them.</summary>
    public static readonly string[] SplitDirectories = ["mess", "info", "local", "remote", "ext"];
}
