using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Send.Start;

/// <summary>
/// Starts a daemon as an account. posix_spawn cannot change uids, so a daemon
/// that must run as another account is started through jsmail-start itself,
/// re-executed with JSMAIL_START_AS set: it drops to the account and execs the
/// daemon with the environment it was given minus that variable.
/// </summary>
public sealed class Launcher(string home)
{
    /// <summary>qmail-start's execvp: the first PATH entry holding the program; then the home's bin/.</summary>
    public string Find(string name) => Common.Os.Exec.FindOnPath(name) ?? Path.Combine(home, "bin", name);

    /// <param name="variable">an entry added to the daemon's environment, or null for ours unchanged</param>
    public void Start(string name, string[] argv, Identity? who, (int Child, int Parent)[] fds, string? variable = null)
    {
        var program = Find(name);
        if (who is not { } id)
        {
            if (variable == null) PosixSpawn.Start(program, argv, null, fds);
            else PosixSpawn.Start(program, argv.Select(Encoding.UTF8.GetBytes).ToArray(), WithVariable(variable), fds);
            return;
        }
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no executable path");
        var env = variable == null ? Libc.EnvironmentEntries() : WithVariable(variable);
        env.Add(Encoding.UTF8.GetBytes($"{Program.AsVariable}={id.Encode()}"));
        var selfArgv = new List<byte[]> { Encoding.UTF8.GetBytes("jsmail-start"), Encoding.UTF8.GetBytes(program) };
        selfArgv.AddRange(argv.Select(Encoding.UTF8.GetBytes));
        PosixSpawn.Start(self, selfArgv, env, fds);
    }

    /// <summary>Our environment with <paramref name="entry"/> (NAME=value) in place of any entry of that name.</summary>
    private static List<byte[]> WithVariable(string entry)
    {
        var env = Libc.EnvironmentEntries(entry[..entry.IndexOf('=')]);
        env.Add(Encoding.UTF8.GetBytes(entry));
        return env;
    }

    /// <summary>
    /// Whether <paramref name="path"/> is jsmail's: its final link target is
    /// named jsmail-*, as install.sh links qmail-* to jsmail-*. A copy under
    /// qmail's name counts as qmail's (the safe answer).
    /// </summary>
    public static bool IsJsmail(string path)
    {
        try
        {
            var target = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
            return Path.GetFileName(target).StartsWith("jsmail-", StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
    }

    /// <summary>The re-executed side: args = program, argv...</summary>
    public static int ExecAs(string who, string[] args)
    {
        var env = Libc.EnvironmentEntries(Program.AsVariable);
        if (args.Length < 2 || !Accounts.Become(Identity.Decode(who))) return 111;
        Exec(args[0], args[1..], env);
        return 111;
    }

    public static void Exec(string program, IReadOnlyList<string> argv, IReadOnlyList<byte[]> env) =>
        Common.Os.Exec.Replace(program, argv.Select(Encoding.UTF8.GetBytes).ToArray(), env);
}
