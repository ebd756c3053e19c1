using Jsmail.Common.Control;
using Jsmail.LSpawn;
using static Jsmail.LSpawn.LocalChannel;

namespace Jsmail.Local.Tests;

/// <summary>
/// Which deliveries jsmail-lspawn starts qmail-local for itself, and which go
/// through its delivery child (the one that does what qmail-lspawn's forked
/// child does).
/// </summary>
public class LocalRouteTests
{
    [Theory]
    //          euid  ruid  recipient compat  route
    [InlineData(0u,   0u,   1001u,    false,  Routes.AsRecipient)]
    [InlineData(0u,   0u,   1001u,    true,   Routes.AsRecipient)]
    [InlineData(0u,   1001u, 1001u,   false,  Routes.AsRecipient)] // setuid root: the euid decides
    [InlineData(0u,   0u,   0u,       false,  Routes.Child)]       // root: the child reports it
    [InlineData(0u,   0u,   0u,       true,   Routes.Child)]
    [InlineData(1001u, 1001u, 1001u,  false,  Routes.AsInvoker)]   // single-user install
    [InlineData(1001u, 1001u, 1002u,  false,  Routes.Child)]       // the child refuses: bug
    [InlineData(1001u, 1001u, 1001u,  true,   Routes.Child)]       // compat: qmail-lspawn's setuid fails
    [InlineData(1001u, 1002u, 1001u,  false,  Routes.Child)]       // only the real uid counts without root
    [InlineData(1001u, 1001u, 0u,     false,  Routes.Child)]
    public void Route_by_ids(uint euid, uint ruid, uint recipient, bool compat, Routes expected) =>
        Route(euid, ruid, recipient, compat).Should().Be(expected);

    [Fact]
    public void Qmail_local_argv_is_qmail_lspawns()
    {
        var a = new UserAssignment("u"u8.ToArray(), 5, 6, "/h"u8.ToArray(), "-"u8.ToArray(), "ext"u8.ToArray());
        var argv = a.QmailLocalArgv("u-ext"u8.ToArray(), "d.test"u8.ToArray(), "s@x"u8.ToArray(), "./Maildir/"u8.ToArray());
        argv.Select(System.Text.Encoding.Latin1.GetString).Should().Equal(
            "bin/qmail-local", "--", "u", "/h", "u-ext", "-", "ext", "d.test", "s@x", "./Maildir/");
    }
}
