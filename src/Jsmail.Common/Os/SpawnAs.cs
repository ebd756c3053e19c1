namespace Jsmail.Common.Os;

/// <summary>The thread could not take the target ids; nothing was started.</summary>
public sealed class CredentialChangeException(string program, int errno) : SpawnException(program, errno);

/// <summary>
/// Starts a program as another user from a root process without a second
/// process of our own in between. qmail forks, drops privileges in the child
/// and execs; the .NET runtime cannot fork, and a helper process costs a
/// runtime start per delivery. Linux keeps credentials per thread (glibc's
/// set*id wrappers copy a change to every thread; the raw system calls do not),
/// and posix_spawn's child takes the calling thread's credentials. So a
/// short-lived thread drops to the target ids (<see cref="ThreadCredentials"/>), spawns, and
/// ends: the process's other threads, and the thread-group leader whose
/// credentials decide who may signal the process, stay root throughout.
/// </summary>
public static class SpawnAs
{
    /// <summary>
    /// posix_spawn of <paramref name="program"/> with real, effective and saved
    /// ids <paramref name="uid"/>/<paramref name="gid"/> and <paramref name="gid"/>
    /// as its only supplementary group. Returns the pid; throws
    /// <see cref="SpawnException"/> when the ids cannot be taken or the program
    /// cannot be started (<see cref="CredentialChangeException"/> when the ids
    /// could not be taken).
    /// </summary>
    public static int Start(uint uid, uint gid, string program, IReadOnlyList<byte[]> argv,
        (int Child, int Parent)[] fds, string? cwd)
    {
        int pid = -1, errno = 0;
        var becameTarget = false;
        var worker = new Thread(() =>
        {
            if (!(becameTarget = (errno = ThreadCredentials.Drop(uid, gid, [gid])) == 0)) return;
            try { pid = PosixSpawn.Start(program, argv, null, fds, cwd); }
            catch (SpawnException e) { errno = e.Errno; }
        }, 256 * 1024);
        worker.Start();
        worker.Join();
        if (!becameTarget) throw new CredentialChangeException(program, errno);
        if (pid < 0) throw new SpawnException(program, errno);
        return pid;
    }
}
