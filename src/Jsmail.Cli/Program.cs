using System.CommandLine;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;

namespace Jsmail.Cli;

/// <summary>
/// <c>jsmail</c>, the operator's command (docs/jsmail.md): the queue
/// (list, show, delete, hold, release, requeue, flush, bounce), the
/// installation's <c>check</c> and its <c>status</c>. The home is the one whose
/// bin/ holds this program. Exit codes: 0 done, 1 <c>check</c> found errors,
/// 100 a bad request, 111 trouble.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = CommandTree.Build(Run);
        // no response files: an argument such as "@example.com" is a domain, not a file of arguments
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            parsed.Invoke();
            return 100;
        }
        return parsed.Invoke();
    }

    /// <summary>Runs a subcommand in the home's queue/, turning its CliException into a message and an exit code.</summary>
    private static int Run(Func<string, int> body)
    {
        try
        {
            var home = QmailHome.Current;
            if (Libc.Chdir(Path.Combine(home, "queue")) != 0)
                throw new CliException($"unable to switch to {home}/queue: {ErrorText.Describe(Libc.Errno)}");
            return body(home);
        }
        catch (CliException e)
        {
            Console.Out.Flush();
            Console.Error.WriteLine("jsmail: fatal: " + e.Message);
            return e.ExitCode;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine("jsmail: fatal: " + e.Message);
            return 111;
        }
    }
}
