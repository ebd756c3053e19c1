using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;

namespace Jsmail.Showctl;

/// <summary>
/// jsmail-showctl, a drop-in qmail-showctl (interfaces §10.1): the compiled-in
/// settings qmail had (home, user-ext delimiter, paternalism, spawn limit,
/// split, the account ids), then every control file with its meaning and value.
/// Everything goes to stdout; a home or control/ it cannot enter, or an
/// unreadable control/me, ends it with qmail's "Oops!" text and exit 111.
/// </summary>
public static class Program
{
    /// <summary>qmail's conf-break: the user-ext delimiter jsmail-lspawn and jsmail-local use.</summary>
    private const string UserExtDelimiter = "-";

    /// <summary>qmail's conf-patrn 002: jsmail-local refuses a home or .qmail file writable by others.</summary>
    private const int Paternalism = 2;

    public static int Main()
    {
        var output = new FdWriter(1);
        string? home = null;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException) { }

        Put(output, $"qmail home directory: {home}.\n");
        Put(output, $"user-ext delimiter: {UserExtDelimiter}.\n");
        Put(output, $"paternalism (in decimal): {Paternalism}.\n");
        Put(output, $"silent concurrency limit: {SpawnerSide.SlotLimit}.\n");
        Put(output, $"subdirectory split: {QueueLayout.Split}.\n");
        Put(output, $"user ids: {Accounts.UserIds()}.\n");
        Put(output, $"group ids: {Accounts.GroupIds()}.\n");

        if (home == null || Libc.Chdir(home) != 0) return Oops(output, $"Oops! Unable to chdir to {home}.\n");
        if (Libc.Chdir("control") != 0) return Oops(output, "Oops! Unable to chdir to control.\n");
        List<string> names;
        try { names = Directory.EnumerateFileSystemEntries(".").Select(p => Path.GetFileName(p)).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Oops(output, "Oops! Unable to open current directory.\n");
        }

        var report = new ShowctlReport(new ControlDirectory(names), Compat.IsQmail).Build(out var oops);
        if (report == null) return Oops(output, oops!);
        output.Write(report);
        output.Flush();
        return 0;
    }

    private static void Put(FdWriter output, string text) => output.Write(Encoding.UTF8.GetBytes(text));

    private static int Oops(FdWriter output, string text)
    {
        Put(output, text);
        output.Flush();
        return 111;
    }
}
