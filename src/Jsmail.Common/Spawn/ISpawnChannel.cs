using Jsmail.Common.Os;

namespace Jsmail.Common.Spawn;

/// <summary>
/// What differs between qmail-lspawn and qmail-rspawn inside the common
/// spawner (interfaces §4.1): how a delivery child is started, and how its exit
/// status and output become a report.
/// </summary>
public interface ISpawnChannel
{
    /// <summary>
    /// Starts the delivery child with fd 0 = <paramref name="messageFd"/> (at offset
    /// 0) and fds 1 and 2 = <paramref name="reportFd"/>. Returns its pid; throws
    /// <see cref="Os.SpawnException"/> when it cannot be started.
    /// </summary>
    /// <param name="at">the index of the (first) recipient's last '@'</param>
    int Start(int messageFd, int reportFd, SpawnCommand command, int at);

    /// <summary>The report, status letter first, for a child that ended with <paramref name="waitStatus"/>.</summary>
    byte[] Report(int waitStatus, ReadOnlySpan<byte> output);

    /// <summary>
    /// The report when the child could not be started at all (exec failed with
    /// <paramref name="errno"/>), or null for the spawner's own "unable to fork".
    /// </summary>
    byte[]? StartFailed(int errno) => null;

    /// <summary>
    /// A descriptor that becomes readable when delivery <paramref name="pid"/> has
    /// ended, or -1 (wait for it once its output ends). The child's pidfd; a
    /// channel that delivers without a child process gives its own ids and descriptors.
    /// </summary>
    int EndFd(int pid) => Libc.PidfdOpen(pid);

    /// <summary>waitpid(2) for delivery <paramref name="pid"/>: its id once ended (with the status), 0 not yet (WNOHANG), -1 lost.</summary>
    int Wait(int pid, out int status, int options) => Libc.Waitpid(pid, out status, options);

    /// <summary>Output beyond this many bytes is cut (qmail-lspawn: 3000), or null for no limit.</summary>
    int? OutputLimit { get; }

    /// <summary>
    /// The most recipients one child takes (a grouped command, docs/spawn-protocol.md);
    /// 1, qmail's one recipient per delivery, means the spawner never offers more.
    /// </summary>
    int MaxRecipients => 1;

    /// <summary>
    /// The reports, one per recipient in command order, for a child given
    /// <paramref name="recipients"/> recipients that ended with <paramref name="waitStatus"/>.
    /// </summary>
    byte[][] Reports(int waitStatus, ReadOnlySpan<byte> output, int recipients) => [Report(waitStatus, output)];
}
