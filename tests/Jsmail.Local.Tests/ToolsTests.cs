using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Local.Tests;

/// <summary>jsmail-newu, jsmail-getpw and maildirmake as installed (§10.3, §4.6, §16 items 20 and 51).</summary>
public class ToolsTests(PrivilegedHomeFixture fixture) : IClassFixture<PrivilegedHomeFixture>
{
    private TestHome Home => fixture.Home;
    private string Users(string f) => Path.Combine(Home.Path, "users", f);

    [Fact]
    public void Newu_output_is_byte_identical_to_cdbmake()
    {
        File.WriteAllText(Users("assign"), "+:alias:7790:2108:/var/qmail/alias:-::\n+Joe-:joe:507:100:/home/joe:-::\n=joe:joe:507:100:/home/joe:::\n.\n");
        var r = Run.Process(Home.Bin("jsmail-newu"), []);
        r.ExitCode.Should().Be(0, r.Err);
        // the same records through tinycdb's cdbmake-format input
        var records = new[]
        {
            ("!", "alias\u00007790\u00002108\u0000/var/qmail/alias\u0000-\u0000"),
            ("!joe-", "joe\u0000507\u0000100\u0000/home/joe\u0000-\u0000"),
            ("!joe\0", "joe\u0000507\u0000100\u0000/home/joe\u0000\u0000"),
            ("", "-"),
        };
        var input = new StringBuilder();
        foreach (var (k, d) in records) input.Append($"+{k.Length},{d.Length}:{k}->{d}\n");
        input.Append('\n');
        var reference = Path.Combine(Home.Path, "reference.cdb");
        Run.Process("cdb", ["-c", reference], Encoding.Latin1.GetBytes(input.ToString())).ExitCode.Should().Be(0);
        File.ReadAllBytes(Users("cdb")).Should().Equal(File.ReadAllBytes(reference));
        ((int)File.GetUnixFileMode(Users("cdb")) & 0x1FF).Should().Be(0x1A4);
    }

    [Theory] // item 51
    [InlineData("=a:u:1:2:/h:::\n")]
    [InlineData("=a:u:1:2:/h::\n.\n")]
    public void Newu_bad_format_leaves_cdb_alone(string assign)
    {
        File.WriteAllText(Users("assign"), "=x:u:1:2:/h:::\n.\n");
        Run.Process(Home.Bin("jsmail-newu"), []).ExitCode.Should().Be(0);
        var before = File.ReadAllBytes(Users("cdb"));
        File.WriteAllText(Users("assign"), assign);
        var r = Run.Process(Home.Bin("jsmail-newu"), []);
        (r.ExitCode, r.Err).Should().Be((111, "qmail-newu: fatal: bad format in users/assign\n"));
        File.ReadAllBytes(Users("cdb")).Should().Equal(before);
        File.Exists(Users("cdb.tmp")).Should().BeFalse();
    }

    [Fact]
    public void Newu_without_assign()
    {
        File.Delete(Users("assign"));
        var r = Run.Process(Home.Bin("jsmail-newu"), []);
        (r.ExitCode, r.Err).Should().Be((111, "qmail-newu: fatal: unable to open users/assign: file does not exist\n"));
    }

    [Fact] // item 20
    public void Getpw_matches_prefixes_and_falls_back_to_alias()
    {
        var u = fixture.Accounts.Add("jsg");
        var r = Run.Process(Home.Bin("jsmail-getpw"), [u.Name.ToUpperInvariant() + "-Foo-Bar"]);
        r.ExitCode.Should().Be(0);
        Encoding.Latin1.GetString(r.Stdout).Should().Be($"{u.Name}\0{u.Uid}\0{u.Gid}\0{u.Home}\0-\0Foo-Bar\0");
        r = Run.Process(Home.Bin("jsmail-getpw"), [u.Name]);
        Encoding.Latin1.GetString(r.Stdout).Should().Be($"{u.Name}\0{u.Uid}\0{u.Gid}\0{u.Home}\0\0\0");

        var alias = Accounts.Sh("id -u alias; id -g alias").Out.Split('\n');
        r = Run.Process(Home.Bin("jsmail-getpw"), ["Nobody-Here"]);
        var aliasHome = Accounts.Sh("getent passwd alias | cut -d: -f6").Out.Trim();
        Encoding.Latin1.GetString(r.Stdout).Should().Be($"alias\0{alias[0]}\0{alias[1]}\0{aliasHome}\0-\0Nobody-Here\0");
        Run.Process(Home.Bin("jsmail-getpw"), ["root"]).Stdout.Should().StartWith(Encoding.ASCII.GetBytes("alias\0"), "root never qualifies");
        Run.Process(Home.Bin("jsmail-getpw"), []).ExitCode.Should().Be(100);
    }

    [Fact]
    public void Getpw_refuses_a_home_owned_by_someone_else()
    {
        var u = fixture.Accounts.Add("jsh");
        Accounts.Sh($"chown root '{u.Home}'");
        Run.Process(Home.Bin("jsmail-getpw"), [u.Name]).Stdout.Should().StartWith(Encoding.ASCII.GetBytes("alias\0"));
    }

    [Fact]
    public void Maildirmake_is_installed_as_maildirmake()
    {
        var dir = Path.Combine(fixture.Accounts.Dir.Path, "md-" + Guid.NewGuid().ToString("N")[..6]);
        new FileInfo(Path.Combine(Home.Path, "bin", "maildirmake")).LinkTarget.Should().Be("jsmail-maildirmake");
        Run.Process(Path.Combine(Home.Path, "bin", "maildirmake"), [dir]).ExitCode.Should().Be(0);
        foreach (var d in new[] { "", "tmp", "new", "cur" })
            ((int)File.GetUnixFileMode(Path.Combine(dir, d)) & 0x1FF).Should().Be(0x1C0);
        var r = Run.Process(Path.Combine(Home.Path, "bin", "maildirmake"), [dir]);
        (r.ExitCode, r.Err).Should().Be((111, $"maildirmake: fatal: unable to mkdir {dir}: file already exists\n"));
        Run.Process(Path.Combine(Home.Path, "bin", "maildirmake"), []).ExitCode.Should().Be(100);
    }
}
