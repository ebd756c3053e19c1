using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Local.Tests;

/// <summary>
/// A single-user install: jsmail-lspawn run by an ordinary user delivers as that
/// user to the Maildirs users/assign gives it, and refuses any other uid.
/// </summary>
public class SingleUserTests : IDisposable
{
    private readonly Accounts _accounts = new();
    private readonly TestHome _home = TestHome.Install(privileged: false);

    public void Dispose()
    {
        _home.Dispose();
        _accounts.Dispose();
    }

    [Fact]
    public void Delivers_as_the_invoking_user_without_root()
    {
        var u = _accounts.Add("jss");
        var other = _accounts.Add("jso");
        Accounts.Sh($"cd '{u.Home}' && '{_home.Bin("jsmail-maildirmake")}' Maildir && chown -R '{u.Name}:{u.Name}' . '{_home.Path}'");
        File.WriteAllText(Path.Combine(_home.Path, "users", "assign"),
            $"=me:{u.Name}:{u.Uid}:{u.Gid}:{u.Home}:::\n=them:{other.Name}:{other.Uid}:{other.Gid}:{other.Home}:::\n.\n");
        Run.Process(_home.Bin("jsmail-newu"), []).ExitCode.Should().Be(0);
        var msg = _home.Queue("mess/4/77");
        File.WriteAllText(msg, "Subject: single\n\nhi\n");
        Accounts.Sh($"chown '{u.Name}' '{msg}'");

        var r = Run.Shell($"printf '\\001%s\\0s@x\\0me@y\\0\\002%s\\0s@x\\0them@y\\0' 4/77 4/77 | setpriv --reuid={u.Uid} --regid={u.Gid} --clear-groups '{_home.Bin("jsmail-lspawn")}' ./Maildir/");
        r.ExitCode.Should().Be(0, r.Err);
        var results = Encoding.Latin1.GetString(r.Stdout[1..]).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        results.Should().BeEquivalentTo("\u0001Kdid 1+0+0\n", "\u0002ZInternal qmail-lspawn bug.\n");
        var file = Directory.GetFiles(Path.Combine(u.Home, "Maildir", "new")).Should().ContainSingle().Subject;
        Accounts.Sh($"stat -c %u '{file}'").Out.Should().Be($"{u.Uid}\n");
    }
}
