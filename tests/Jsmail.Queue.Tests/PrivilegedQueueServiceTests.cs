using System.Text;
using Jsmail.Common.Os;
using Jsmail.TestSupport;

namespace Jsmail.Queue.Tests;

/// <summary>jsmail-queued in a privileged install: started as root, it serves as qmailq, and qmaild is "from network".</summary>
public class PrivilegedQueueServiceTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install(privileged: true);
    public void Dispose() => _home.Dispose();

    [Fact]
    public void Started_as_root_it_runs_as_qmailq_and_queues_qmailds_message_from_network()
    {
        using var service = RunningQueueService.Start(_home);
        var qmailq = Libc.GetPasswd("qmailq")!.Value;
        var qmaild = Libc.GetPasswd("qmaild")!.Value;
        var status = File.ReadAllText($"/proc/{service.Pid}/status");
        status.Should().MatchRegex($"\nUid:\\s+{qmailq.Uid}\\s+{qmailq.Uid}\\s+{qmailq.Uid}\\s+{qmailq.Uid}\n");
        status.Should().MatchRegex($"\nGroups:\\s+{qmailq.Gid}\\s*\n");

        var r = RunningQueueService.SubmitAs(qmaild.Uid.ToString(), qmaild.Gid.ToString(), service.SocketPath);
        r.Out.Should().MatchRegex("^exit 0 id \\d+\n$", r.Err);
        var id = ulong.Parse(r.Out.Trim().Split(' ')[3]);

        var intd = Encoding.Latin1.GetString(_home.ReadQueueFile($"todo/{id}"));
        intd.Should().Be($"u{qmaild.Uid}\0p{service.Pid}\0Fa@x\0Tb@y\0");
        var mess = Encoding.Latin1.GetString(_home.ReadQueueFile($"mess/{id % 23}/{id}"));
        mess.Should().StartWith($"Received: (qmail {service.Pid} invoked from network); ");
        foreach (var f in new[] { $"todo/{id}", $"mess/{id % 23}/{id}" })
        {
            Libc.StatPath(_home.Queue(f), out var st).Should().Be(0);
            st.Uid.Should().Be(qmailq.Uid, $"{f} is owned by qmailq");
        }
        service.Stop().Should().Be(0);
    }

    [Fact]
    public void Another_account_cannot_even_reach_the_socket()
    {
        using var service = RunningQueueService.Start(_home);
        var qmailr = Libc.GetPasswd("qmailr")!.Value; // group qmail, not nofiles: queued/ is closed to it
        var r = RunningQueueService.SubmitAs(qmailr.Uid.ToString(), qmailr.Gid.ToString(), service.SocketPath);
        r.ExitCode.Should().NotBe(0);
        r.Err.Should().Contain("PermissionError");
        _home.Entries("todo").Should().BeEmpty();
        service.Stop().Should().Be(0);
    }
}
