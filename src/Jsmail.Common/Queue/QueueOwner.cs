using Jsmail.Common.Os;

namespace Jsmail.Common.Queue;

/// <summary>
/// Who owns a home's queue, decided in one place for every program that cares:
/// the owner of queue/mess. In a privileged install that is qmailq (interfaces
/// §14.2); in a single-user install (install.sh --single-user, even by root) it
/// is the installing user. The spawners refuse messages of any other owner, and
/// jsmail-start runs the qmail accounts only over a queue that is qmailq's.
/// </summary>
public static class QueueOwner
{
    /// <summary>The uid owning the queue of <paramref name="home"/>, or null when queue/mess cannot be stat'ed.</summary>
    public static uint? Of(string home) =>
        Libc.StatPath(Path.Combine(home, "queue", "mess"), out var st) == 0 ? st.Uid : null;

    /// <summary>True when the queue is the qmail accounts' (its owner is qmailq), false for a single-user queue.</summary>
    public static bool IsQmailq(string home) =>
        Of(home) is { } owner && Libc.GetPasswd("qmailq") is { } qmailq && qmailq.Uid == owner;
}
