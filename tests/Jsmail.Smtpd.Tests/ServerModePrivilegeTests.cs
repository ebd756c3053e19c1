using Jsmail.Common.Os;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>Server mode started as root in a privileged home: it binds, then serves as qmaild.</summary>
public sealed class ServerModePrivilegeTests : IDisposable
{
    private readonly TempDir _dir = new("jsmail-server-root");
    private readonly TestHome _home = TestHome.Install(privileged: true);

    [Fact]
    public void Started_as_root_the_listener_runs_as_qmaild_and_still_queues()
    {
        Libc.Geteuid().Should().Be(0u, "this test starts the server as root, as an administrator does");
        var qmaild = Libc.GetPasswd("qmaild")!.Value;
        _home.WriteControl("me", "mx.example\n");
        _home.WriteControl("rcpthosts", "example.com\n");
        using var server = new ServerModeServer(_home.Path, _dir.Path, singleUser: false);

        var uid = server.Status("Uid:").Split('\t', StringSplitOptions.RemoveEmptyEntries);
        uid.Skip(1).Should().AllBe(qmaild.Uid.ToString(), "real, effective, saved and filesystem uid are all qmaild's");
        server.Status("Gid:").Split('\t', StringSplitOptions.RemoveEmptyEntries).Skip(1).Should().AllBe(qmaild.Gid.ToString());
        server.Status("Groups:").Split('\t', ' ').Where(g => g.Length > 0).Skip(1).Should().Equal(qmaild.Gid.ToString());

        var reply = server.Talk("HELO c\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nSubject: root\r\n\r\nhi\r\n.\r\nQUIT\r\n");
        reply.Should().StartWith("220 mx.example ESMTP").And.MatchRegex("250 2.0.0 ok \\d+ qp \\d+");
        _home.Entries("todo").Should().ContainSingle("qmaild ran the setuid queue program as under tcpserver -u");
    }

    public void Dispose()
    {
        _home.Dispose();
        _dir.Dispose();
    }
}
