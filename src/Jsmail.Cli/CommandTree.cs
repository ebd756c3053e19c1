using System.CommandLine;
using Jsmail.Common.Queue;

namespace Jsmail.Cli;

/// <summary>The subcommands and options of <c>jsmail</c> (System.CommandLine: --help on each).</summary>
public static class CommandTree
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static RootCommand Build(Func<Func<string, int>, int> run)
    {
        var root = new RootCommand("jsmail: look after a jsmail (qmail) installation: its queue, its configuration, its services");
        var queue = new Command("queue", "list, inspect and change the messages in the queue");
        root.Subcommands.Add(queue);

        var sender = new Option<string?>("--sender") { Description = "only messages whose sender contains this text" };
        var recipient = new Option<string?>("--recipient") { Description = "only messages with a recipient containing this text" };
        var domain = new Option<string?>("--domain") { Description = "only messages with a recipient at this domain" };
        var older = new Option<string?>("--older-than") { Description = "only messages queued longer ago than this (90s, 30m, 2h, 1d, 1w)" };
        var younger = new Option<string?>("--younger-than") { Description = "only messages queued more recently than this" };
        var state = new Option<string?>("--state") { Description = "only messages in this state: todo, active, deferred, held" };
        state.AcceptOnlyFromAmong(QueueFilter.States);
        var json = new Option<bool>("--json") { Description = "print JSON instead of text" };
        var list = new Command("list", "list the queued messages with their recipients") { sender, recipient, domain, older, younger, state, json };
        list.SetAction(p => run(_ =>
        {
            var filter = new QueueFilter(p.GetValue(sender), p.GetValue(recipient), p.GetValue(domain),
                Age(p.GetValue(older), "--older-than"), Age(p.GetValue(younger), "--younger-than"), p.GetValue(state));
            var now = Now;
            var messages = QueuedMessage.Ids().Select(id => QueuedMessage.Read(id, now)).OfType<QueuedMessage>()
                .Where(m => filter.Matches(m, now)).OrderBy(m => m.Birth).ThenBy(m => m.Id).ToList();
            if (p.GetValue(json)) { using var o = Console.OpenStandardOutput(); QueueReport.ListJson(o, messages); }
            else QueueReport.ListText(Console.Out, messages);
            return 0;
        }));
        queue.Subcommands.Add(list);

        var showId = new Argument<ulong>("id") { Description = "the message's number (its queue id)" };
        var show = new Command("show", "the envelope with its ESMTP parameters, each recipient's state, the next attempt, and the message") { showId };
        show.SetAction(p => run(_ =>
        {
            var m = QueuedMessage.Read(p.GetValue(showId), Now) ?? throw new CliException($"no message {p.GetValue(showId)} in the queue");
            using var o = Console.OpenStandardOutput();
            QueueReport.Show(o, m, Now);
            return 0;
        }));
        queue.Subcommands.Add(show);

        queue.Subcommands.Add(Change("delete", "remove messages without delivering them or bouncing them", QueueVerb.Delete, run));
        queue.Subcommands.Add(Change("hold", "keep messages in the queue undelivered until released", QueueVerb.Hold, run));
        queue.Subcommands.Add(Change("release", "let held messages be delivered again, at once", QueueVerb.Release, run));
        queue.Subcommands.Add(Change("requeue", "try messages again now", QueueVerb.Requeue, run));
        queue.Subcommands.Add(Change("bounce", "bounce messages now to their senders, with a reason", QueueVerb.Bounce, run));

        var flush = new Command("flush", "try every queued message (held ones excepted) now");
        flush.SetAction(p => run(home =>
        {
            using var changer = new QueueChanger(home);
            Console.WriteLine(changer.Apply(new QueueCommand(QueueVerb.Flush, 0)));
            // a progress bar for a person watching; never in a pipe or a file
            if (!Console.IsOutputRedirected) FlushProgress.Show(Console.Out, changer);
            return 0;
        }));
        queue.Subcommands.Add(flush);

        var check = new Command("check", "check owners and modes of the queue and programs, the control files and the cdb files");
        check.SetAction(p => run(home => new InstallationCheck(home, Console.Out).Run()));
        root.Subcommands.Add(check);

        var log = new Option<string?>("--log")
        {
            Description = "jsmail-send's multilog directory, for the last delivery errors per destination (default HOME/log when it has a current file, else /var/log/qmail)",
        };
        var status = new Command("status", "whether qmail-send and the services run; the queue by state and age; the last delivery errors per destination") { log };
        status.SetAction(p =>
        {
            var given = p.GetValue(log) is { } g ? Path.GetFullPath(g) : null; // before run() changes to queue/
            return run(home =>
        {
            StatusReport.Write(Console.Out, home, Now);
            var logDir = given ?? DeliveryErrors.DefaultLogDir(home);
            DeliveryErrors.Write(Console.Out, DeliveryErrors.Read(logDir), logDir);
            return 0;
        });
        });
        root.Subcommands.Add(status);
        return root;
    }

    private static Command Change(string name, string description, QueueVerb verb, Func<Func<string, int>, int> run)
    {
        var ids = new Argument<ulong[]>("id") { Description = "the messages' numbers", Arity = ArgumentArity.OneOrMore };
        var reason = new Option<string?>("--reason") { Description = "the text each recipient's failure gives in the bounce" };
        var command = new Command(name, description) { ids };
        if (verb == QueueVerb.Bounce) command.Options.Add(reason);
        command.SetAction(p => run(home =>
        {
            using var changer = new QueueChanger(home);
            var failed = 0;
            foreach (var id in p.GetValue(ids) ?? [])
            {
                try { Console.WriteLine(changer.Apply(new QueueCommand(verb, id, p.GetValue(reason) ?? ""))); }
                catch (CliException e) when (e.ExitCode == 111)
                {
                    Console.Error.WriteLine("jsmail: " + e.Message);
                    failed++;
                }
            }
            return failed == 0 ? 0 : 111;
        }));
        return command;
    }

    private static long? Age(string? text, string option) =>
        text == null ? null : QueueFilter.ParseAge(text) ?? throw new CliException($"{option}: not an age: {text}", 100);
}
