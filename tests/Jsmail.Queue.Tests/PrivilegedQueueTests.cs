using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;
using static Jsmail.Queue.Tests.QueueRunner;

namespace Jsmail.Queue.Tests;

/// <summary>The setuid jsmail-queue of a privileged install, called by real users.</summary>
public class PrivilegedQueueTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install(privileged: true);
    public void Dispose() => _home.Dispose();

    private static readonly byte[] Message = B("Subject: x\n\nbody\n");

    private (string Todo, string Received) QueueAs(string user, string extraEnv = "")
    {
        var env = B("Fa@x\0Tb@y\0\0");
        var r = TestSupport.Run.Shell($$"""
            d=$(mktemp -d); chmod 755 "$d"; printf 'Subject: x\n\nbody\n' > "$d/msg"; printf 'Fa@x\0Tb@y\0\0' > "$d/env"
            {{extraEnv}} setpriv --reuid="$2" --regid="$(id -g "$2")" --clear-groups "$1" <"$d/msg" 1<"$d/env"; rc=$?
            rm -rf "$d"; printf %s $rc
            """, args: [_home.Bin("qmail-queue"), user]);
        r.Out.Should().Be("0", r.Err);
        var todo = _home.Entries("todo").Single();
        var id = ulong.Parse(todo);
        var todoText = Encoding.Latin1.GetString(_home.ReadQueueFile("todo/" + todo));
        var mess = Encoding.Latin1.GetString(_home.ReadQueueFile($"mess/{id % 23}/{id}"));
        foreach (var f in new[] { "todo/" + todo, $"intd/{id}", $"mess/{id % 23}/{id}" })
        {
            Jsmail.Common.Os.Libc.StatPath(_home.Queue(f), out var st);
            st.Uid.Should().Be(Jsmail.Common.Os.Libc.GetPasswd("qmailq")!.Value.Uid, $"{f} is owned by qmailq");
        }
        File.Delete(_home.Queue("todo/" + todo));
        return (todoText, mess[..mess.IndexOf('\n')]);
    }

    private static uint Uid(string user) => Jsmail.Common.Os.Libc.GetPasswd(user)!.Value.Uid;

    [Fact]
    public void Records_the_callers_real_uid_and_says_how_it_was_invoked()
    {
        var (todo, received) = QueueAs("nobody");
        todo.Should().StartWith($"u{Uid("nobody")}\0");
        received.Should().MatchRegex($"^Received: \\(qmail \\d+ invoked by uid {Uid("nobody")}\\); ");

        QueueAs("qmaild").Received.Should().MatchRegex("invoked from network\\); ");
        QueueAs("qmails").Received.Should().MatchRegex("invoked for bounce\\); ");
        QueueAs("alias").Received.Should().MatchRegex("invoked by alias\\); ");
    }

    [Fact]
    public void Caller_runtime_variables_do_not_reach_the_setuid_process()
    {
        // While it waits for its message, the setuid process's environment is looked at from outside.
        var r = TestSupport.Run.Shell("""
            d=$(mktemp -d); chmod 755 "$d"; mkfifo -m 666 "$d/in"; printf 'Fa\0Tb\0\0' > "$d/env"
            exec 7<>"$d/in"
            DOTNET_gcConcurrent=0 DOTNET_GCgen0size=0x4000000 PATH=/bin setpriv --reuid=nobody --regid=nogroup --clear-groups "$1" <"$d/in" 1<"$d/env" 7>&- &
            pid=$!
            sleep 0.5
            printf 'environ=%s\n' "$(tr '\0' ' ' < /proc/$pid/environ)"
            printf 'Subject: x\n\nbody\n' >&7; exec 7>&-
            wait $pid; echo "rc=$?"; rm -rf "$d"
            """, args: _home.Bin("jsmail-queue"));
        r.Out.Should().Contain("environ=\n", "the program started itself again with an empty environment");
        r.Out.Should().Contain("rc=0");
        Encoding.Latin1.GetString(_home.ReadQueueFile("todo/" + _home.Entries("todo").Single()))
            .Should().StartWith($"u{Uid("nobody")}\0");
    }

    [Fact]
    public void Without_runtime_variables_the_environment_is_left_alone()
    {
        var r = TestSupport.Run.Shell("""
            d=$(mktemp -d); chmod 755 "$d"; mkfifo -m 666 "$d/in"; printf 'Fa\0Tb\0\0' > "$d/env"
            exec 7<>"$d/in"
            env - PATH=/bin setpriv --reuid=nobody --regid=nogroup --clear-groups "$1" <"$d/in" 1<"$d/env" 7>&- &
            pid=$!
            sleep 0.5
            printf 'environ=%s\n' "$(tr '\0' ' ' < /proc/$pid/environ)"
            printf 'x\n' >&7; exec 7>&-
            wait $pid; echo "rc=$?"; rm -rf "$d"
            """, args: _home.Bin("jsmail-queue"));
        r.Out.Should().Contain("environ=PATH=/bin \n", "no re-exec is needed, so none is paid for");
        r.Out.Should().Contain("rc=0");
    }
}
