using System.Runtime.InteropServices;
using System.Text;

namespace Jsmail.Common.Os;

/// <summary>Thrown when posix_spawn fails: the program could not be started (exec failure included).</summary>
public class SpawnException(string program, int errno)
    : IOException($"unable to run {program}: errno {errno}")
{
    public int Errno { get; } = errno;
}

/// <summary>
/// Starts a program with an exact file-descriptor map, the way qmail's
/// fork/dup/exec does, but through posix_spawn: the .NET runtime is not
/// fork-safe, and Process cannot place descriptors beyond 0-2.
/// Every descriptor not named in the map is closed in the child (jsmail opens
/// everything close-on-exec); signal dispositions and the mask are reset.
/// </summary>
public static unsafe partial class PosixSpawn
{
    private const string L = "libc";
    /// <summary>The parent side of a pair whose child fd is closed rather than given anything.</summary>
    public const int CloseInChild = -1;

    private const short POSIX_SPAWN_SETPGROUP = 0x02, POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;

    /// <param name="program">path to exec (no PATH search)</param>
    /// <param name="argv">argv, argv[0] included</param>
    /// <param name="envp">null: the current environment</param>
    /// <param name="fds">(fd in the child, fd in the parent) pairs; parent fds must be ≥ 10 or equal to the child fd,
    /// or <see cref="CloseInChild"/></param>
    /// <param name="cwd">directory for the child, or null</param>
    /// <param name="newProcessGroup">put the child in its own process group (so a timeout can kill all it started)</param>
    public static int Start(string program, IReadOnlyList<byte[]> argv, IReadOnlyList<byte[]>? envp,
        ReadOnlySpan<(int Child, int Parent)> fds, string? cwd = null, bool newProcessGroup = false)
    {
        var actions = (byte*)NativeMemory.AllocZeroed(256);
        var attr = (byte*)NativeMemory.AllocZeroed(512);
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = envp == null ? default : new NativeStringArray(envp);
        var sigset = stackalloc byte[Libc.SigsetSize];
        try
        {
            Check(program, FileActionsInit(actions));
            foreach (var (child, parent) in fds)
            {
                if (parent == CloseInChild)
                {
                    Check(program, AddClose(actions, child));
                    continue;
                }
                if (child == parent)
                {
                    // dup2(fd, fd) keeps close-on-exec set: clear it instead.
                    Libc.Fcntl(parent, Libc.F_SETFD, 0);
                    continue;
                }
                Check(program, AddDup2(actions, parent, child));
            }
            if (cwd != null) Check(program, AddChdir(actions, cwd));

            Check(program, AttrInit(attr));
            short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
            if (newProcessGroup) { flags |= POSIX_SPAWN_SETPGROUP; Check(program, AttrSetPgroup(attr, 0)); }
            Check(program, AttrSetFlags(attr, flags));
            SigFillSet(sigset); // sigfillset leaves out glibc's internal signals
            Check(program, AttrSetSigDefault(attr, sigset));
            new Span<byte>(sigset, Libc.SigsetSize).Clear();
            Check(program, AttrSetSigMask(attr, sigset));

            int pid;
            var env = envp != null ? nativeEnv.Pointer : Libc.Environ();
            var rc = PosixSpawnRaw(&pid, program, actions, attr, nativeArgv.Pointer, env);
            if (rc != 0) throw new SpawnException(program, rc);
            return pid;
        }
        finally
        {
            FileActionsDestroy(actions);
            AttrDestroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
        }
    }

    public static int Start(string program, IReadOnlyList<string> argv, IReadOnlyList<string>? envp,
        ReadOnlySpan<(int Child, int Parent)> fds, string? cwd = null, bool newProcessGroup = false) =>
        Start(program, argv.Select(Encoding.UTF8.GetBytes).ToArray(),
            envp?.Select(Encoding.UTF8.GetBytes).ToArray(), fds, cwd, newProcessGroup);

    private static void Check(string program, int rc)
    {
        if (rc != 0) throw new SpawnException(program, rc);
    }

    [LibraryImport(L, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int PosixSpawnRaw(int* pid, string path, byte* actions, byte* attr, byte** argv, byte** envp);

    [LibraryImport(L, EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(byte* actions);

    [LibraryImport(L, EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(byte* actions);

    [LibraryImport(L, EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int AddDup2(byte* actions, int fd, int newfd);

    [LibraryImport(L, EntryPoint = "posix_spawn_file_actions_addclose")]
    private static partial int AddClose(byte* actions, int fd);

    [LibraryImport(L, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int AddChdir(byte* actions, string path);

    [LibraryImport(L, EntryPoint = "posix_spawnattr_init")]
    private static partial int AttrInit(byte* attr);

    [LibraryImport(L, EntryPoint = "posix_spawnattr_destroy")]
    private static partial int AttrDestroy(byte* attr);

    [LibraryImport(L, EntryPoint = "posix_spawnattr_setflags")]
    private static partial int AttrSetFlags(byte* attr, short flags);

    [LibraryImport(L, EntryPoint = "posix_spawnattr_setpgroup")]
    private static partial int AttrSetPgroup(byte* attr, int pgroup);

    [LibraryImport(L, EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int AttrSetSigDefault(byte* attr, byte* sigset);

    [LibraryImport(L, EntryPoint = "sigfillset")]
    private static partial int SigFillSet(byte* set);

    [LibraryImport(L, EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int AttrSetSigMask(byte* attr, byte* sigset);
}
