using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Jsmail.Common.Queue;
using Jsmail.TestSupport;

namespace Jsmail.Tools.Tests;

/// <summary>jsmail-tcpto and jsmail-tcpok over a table the real jsmail-remote wrote.</summary>
public class TcptoToolTests
{
    /// <summary>
    /// A loopback listener whose accept queue is full, so that a further connect
    /// gets no SYN-ACK and times out: the only connect timeout a loopback-only
    /// test can produce.
    /// </summary>
    private sealed class BlackHole : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _fillers = [];
        public int Port { get; }

        public BlackHole()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(0);
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            for (var i = 0; i < 3; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try { s.Connect(IPAddress.Loopback, Port); } catch (SocketException) { }
                _fillers.Add(s);
                Thread.Sleep(100);
            }
        }

        public void Dispose()
        {
            foreach (var s in _fillers) s.Dispose();
            _listener.Dispose();
        }
    }

    private static readonly Regex Line = new(@"^127\.0\.0\.1 timed out \d+ seconds ago; # recent timeouts: 1\n$");

    [Fact]
    public void Shows_the_timeout_jsmail_remote_recorded_and_tcpok_forgets_it()
    {
        using var h = new ToolHome();
        h.Tool("qmail-tcpto").Out.Should().BeEmpty("install.sh writes an empty table");

        using (var hole = new BlackHole())
        {
            h.Home.WriteControl("smtproutes", $"x.test:127.0.0.1:{hole.Port}\n");
            h.Home.WriteControl("timeoutconnect", "1\n");
            var remote = Run.Shell("cd / && exec \"$1\" x.test a@b c@x.test </dev/null", args: [h.Home.Bin("qmail-remote")]);
            Encoding.Latin1.GetString(remote.Stdout).Should().Be("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\0");
        }

        var table = File.ReadAllBytes(h.Home.Queue("lock/tcpto"));
        TcptoTable.Entries(table).Select(e => (e.Address.ToString(), e.Count)).Should().Equal(("127.0.0.1", 1));
        var shown = h.Tool("qmail-tcpto");
        shown.ExitCode.Should().Be(0);
        shown.Out.Should().MatchRegex(Line.ToString());

        var ok = h.Tool("qmail-tcpok");
        ok.ExitCode.Should().Be(0, ok.Err);
        ok.Err.Should().BeEmpty();
        File.ReadAllBytes(h.Home.Queue("lock/tcpto")).Should().HaveCount(1024).And.OnlyContain(b => b == 0);
        h.Tool("qmail-tcpto").Out.Should().BeEmpty();
    }

    [Fact]
    public void Lists_every_entry_of_a_full_table_in_file_order()
    {
        using var h = new ToolHome();
        var table = new byte[TcptoTable.Size];
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (var i = 0; i < 3; i++) TcptoTable.Record(table, IPAddress.Parse($"192.0.2.{i + 1}"), timedOut: true, now: now - 1000);
        TcptoTable.Record(table, IPAddress.Parse("192.0.2.2"), timedOut: true, now: now - 500);
        File.WriteAllBytes(h.Home.Queue("lock/tcpto"), table);
        var lines = h.Tool("qmail-tcpto").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Select(l => Regex.Replace(l, @"timed out \d+ seconds", "timed out N seconds")).Should().Equal(
            "192.0.2.1 timed out N seconds ago; # recent timeouts: 1",
            "192.0.2.2 timed out N seconds ago; # recent timeouts: 2",
            "192.0.2.3 timed out N seconds ago; # recent timeouts: 1");
    }

    // qmail-tcpto opens the table for writing to lock it, so only root and its
    // owner qmailr may read it; its complaints go to stdout without a program
    // name (qmail's warn()). qmail-tcpok speaks strerr: "qmail-tcpok: fatal:" on stderr.
    [Fact]
    public void Only_root_and_the_table_owner_may_run_them()
    {
        using var h = new ToolHome(privileged: true);
        var asQmails = h.Tool("qmail-tcpto", asUser: "qmails");
        asQmails.ExitCode.Should().Be(111);
        asQmails.Out.Should().Be("fatal: unable to open tcpto: access denied\n");

        var okAsQmails = h.Tool("qmail-tcpok", asUser: "qmails");
        okAsQmails.ExitCode.Should().Be(111);
        okAsQmails.Err.Should().Be($"qmail-tcpok: fatal: unable to write {h.Home.Path}/queue/lock/tcpto: access denied\n");

        h.Tool("qmail-tcpto", asUser: "qmailr").ExitCode.Should().Be(0);
        h.Tool("qmail-tcpok", asUser: "qmailr").ExitCode.Should().Be(0);
    }

    [Fact]
    public void A_missing_table_is_fatal()
    {
        using var h = new ToolHome();
        File.Delete(h.Home.Queue("lock/tcpto"));
        var r = h.Tool("qmail-tcpto");
        r.ExitCode.Should().Be(111);
        r.Out.Should().Be("fatal: unable to open tcpto: file does not exist\n");
    }
}
