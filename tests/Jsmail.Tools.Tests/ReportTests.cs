using System.Buffers.Binary;
using System.Net;
using System.Text;
using Jsmail.Common.Queue;
using Jsmail.Qread;
using Jsmail.Showctl;
using Jsmail.Tcpto;

namespace Jsmail.Tools.Tests;

public class QreadReportTests
{
    private static string L(byte[] b) => Encoding.Latin1.GetString(b);

    // qmail-qread's fmtstats: date822fmt minus its last 7 bytes (" -0000\n"), then
    // " GMT  #" id "  " size "  <" sender "> " and " bouncing" when bounce/<id> exists.
    [Theory]
    [InlineData(1700000000L, 12345UL, 678L, "Fa@b.example\0", false, "14 Nov 2023 22:13:20 GMT  #12345  678  <a@b.example> \n")]
    [InlineData(86400L * 4, 7UL, 0L, "F\0", false, "5 Jan 1970 00:00:00 GMT  #7  0  <> \n")]
    [InlineData(0L, 1UL, 10L, "Fx@y\0", true, "1 Jan 1970 00:00:00 GMT  #1  10  <x@y>  bouncing\n")]
    [InlineData(0L, 1UL, 10L, "Fa\tb\u00e9@y\0", false, "1 Jan 1970 00:00:00 GMT  #1  10  <a_b_@y> \n")]
    [InlineData(0L, 1UL, 10L, "Fno-nul", false, "1 Jan 1970 00:00:00 GMT  #1  10  <no-nul> \n")]
    [InlineData(0L, 1UL, 10L, "", false, "1 Jan 1970 00:00:00 GMT  #1  10  <> \n")]
    public void Message_line_is_qmails(long birth, ulong id, long size, string info, bool bouncing, string expected) =>
        L(QreadReport.MessageLine(birth, id, size, Encoding.Latin1.GetBytes(info), bouncing)).Should().Be(expected);

    // A finished recipient gets "  done" in front of the channel's tab (qmail's
    // switch falls through from 'D' to 'T'); unknown record types and a last
    // record without its NUL are not shown.
    [Theory]
    [InlineData("Tu@x\0", false, "\tlocal\tu@x\n")]
    [InlineData("Tu@x\0", true, "\tremote\tu@x\n")]
    [InlineData("Du@x\0Tv@y\0", true, "  done\tremote\tu@x\n\tremote\tv@y\n")]
    [InlineData("Xu@x\0\0Tv@y", false, "")]
    [InlineData("Tbad\u0001\u00ff\0", false, "\tlocal\tbad__\n")]
    [InlineData("", false, "")]
    public void Recipient_lines_are_qmails(string records, bool remote, string expected) =>
        L(QreadReport.RecipientLines(Encoding.Latin1.GetBytes(records), remote)).Should().Be(expected);
}

public class TcptoReportTests
{
    private static byte[] Table(params (string Ip, byte Count, uint When)[] records)
    {
        var t = new byte[TcptoTable.Size];
        for (var i = 0; i < records.Length; i++)
        {
            IPAddress.Parse(records[i].Ip).GetAddressBytes().CopyTo(t, i * 16);
            t[i * 16 + 4] = records[i].Count;
            BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(i * 16 + 8), records[i].When);
        }
        return t;
    }

    [Fact]
    public void Lists_entries_with_a_count_in_file_order()
    {
        var t = Table(("192.0.2.1", 2, 900), ("192.0.2.2", 0, 950), ("198.51.100.7", 10, 1000));
        Encoding.ASCII.GetString(TcptoReport.Format(t, 1000)).Should().Be(
            "192.0.2.1 timed out 100 seconds ago; # recent timeouts: 2\n" +
            "198.51.100.7 timed out 0 seconds ago; # recent timeouts: 10\n");
    }

    [Theory]
    [InlineData(128, "")]  // qmail reads the count as a signed char: 128..255 are "negative", not shown
    [InlineData(127, "10.0.0.1 timed out 5 seconds ago; # recent timeouts: 127\n")]
    [InlineData(1, "10.0.0.1 timed out 5 seconds ago; # recent timeouts: 1\n")]
    public void Count_byte_is_signed(byte count, string expected) =>
        Encoding.ASCII.GetString(TcptoReport.Format(Table(("10.0.0.1", count, 95)), 100)).Should().Be(expected);

    [Fact]
    public void A_future_time_wraps_as_qmails_unsigned_subtraction() =>
        Encoding.ASCII.GetString(TcptoReport.Format(Table(("10.0.0.1", 1, 101)), 100))
            .Should().Be("10.0.0.1 timed out 18446744073709551615 seconds ago; # recent timeouts: 1\n");

    [Fact]
    public void Only_whole_records_of_a_short_file_count() =>
        TcptoReport.Format(Table(("10.0.0.1", 1, 100)).AsSpan(0, 15), 100).Should().BeEmpty();

    [Fact]
    public void Entries_read_what_the_shared_codec_records()
    {
        var t = new byte[TcptoTable.Size];
        TcptoTable.Record(t, IPAddress.Parse("203.0.113.9"), timedOut: true, now: 5000);
        TcptoTable.Record(t, IPAddress.Parse("203.0.113.9"), timedOut: true, now: 5200);
        TcptoTable.Entries(t).Should().Equal(new TcptoEntry(IPAddress.Parse("203.0.113.9"), 2, 5200));
    }
}

public class ShowctlReportTests
{
    private sealed class FakeControl(Dictionary<string, string?> files, Dictionary<string, long>? mtimes = null) : IControlFiles
    {
        public IReadOnlyList<string> Names => files.Keys.ToList();

        public ControlFile Read(string name) => files.TryGetValue(name, out var text)
            ? text == null ? ControlFile.Unreadable : new ControlFile(ControlState.Present, Encoding.Latin1.GetBytes(text))
            : ControlFile.Missing;

        public long? Mtime(string name) => mtimes != null && mtimes.TryGetValue(name, out var t) ? t : null;
    }

    private static string Build(Dictionary<string, string?> files, bool compat = true)
    {
        var bytes = new ShowctlReport(new FakeControl(files), compat).Build(out var oops);
        oops.Should().BeNull();
        return Encoding.Latin1.GetString(bytes!);
    }

    [Theory]
    [InlineData("databytes", "5000\n", "\ndatabytes: SMTP DATA limit is 5000 bytes.\n")]
    [InlineData("databytes", "x\n", "\ndatabytes: (Default.) SMTP DATA limit is 0 bytes.\n")]
    [InlineData("databytes", "3000000000\n", "\ndatabytes: SMTP DATA limit is 0 bytes.\n")]
    [InlineData("databytes", null, "\ndatabytes: Oops! Trouble reading this file.\n")]
    [InlineData("bouncefrom", "bounces \t\nsecond\n", "\nbouncefrom: Bounce user name is bounces.\n")]
    [InlineData("helohost", "h\u00e9\u0001\n", "\nhelohost: SMTP client HELO host name is h??.\n")]
    [InlineData("locals", "a.example\n# no\n\nb.example  \n", "\nlocals: \nMessages for a.example are delivered locally.\nMessages for b.example are delivered locally.\n")]
    [InlineData("smtproutes", ":relay.example\n", "\nsmtproutes: \nSMTP route: :relay.example\n")]
    public void A_file_is_shown_as_qmail_shows_it(string name, string? content, string expected) =>
        Build(new() { ["me"] = "mx.example\n", [name] = content }).Should().Contain(expected);

    [Fact]
    public void Defaults_fall_back_to_me_where_qmail_does()
    {
        var text = Build(new() { ["me"] = "mx.example\n" });
        text.Should().StartWith("\nbadmailfrom: (Default.) Any MAIL FROM is allowed.\n\nbouncefrom: (Default.) Bounce user name is MAILER-DAEMON.\n\nbouncehost: (Default.) Bounce host name is mx.example.\n");
        text.Should().Contain("\ndoublebounceto: (Default.) 2B recipient user: postmaster.\n");
        text.Should().Contain("\nme: My name is mx.example.\n");
        text.Should().Contain("\nrcpthosts: (Default.) SMTP clients may send messages to any recipient.\n\nmorercpthosts: (Default.) No rcpthosts; morercpthosts is irrelevant.\n\nmorercpthosts.cdb: (Default.) No effect.\n");
        text.Should().EndWith("\nvirtualdomains: (Default.) No virtual domains.\n");
    }

    [Fact]
    public void Without_me_the_literal_defaults_show()
    {
        var text = Build([]);
        text.Should().Contain("\nbouncehost: (Default.) Bounce host name is bouncehost.\n");
        text.Should().Contain("\nme: (Default.) My name is undefined! Uh-oh.\n");
    }

    [Fact]
    public void Unreadable_me_is_fatal()
    {
        new ShowctlReport(new FakeControl(new() { ["me"] = null }), compat: true).Build(out var oops).Should().BeNull();
        oops.Should().Be("Oops! Trouble reading control/me.");
    }

    [Fact]
    public void Unknown_files_are_listed_last_in_directory_order()
    {
        var text = Build(new() { ["me"] = "m\n", ["zz"] = "", ["maxrcpt"] = "5\n", ["locals"] = "m\n" });
        text.Should().EndWith("\nvirtualdomains: (Default.) No virtual domains.\n\nzz: I have no idea what this file does.\n\nmaxrcpt: I have no idea what this file does.\n");
    }

    [Fact]
    public void Outside_compat_the_newer_files_are_described_with_their_defaults_and_under_compat_they_are_unknown()
    {
        var files = new Dictionary<string, string?>
        {
            ["me"] = "m\n", ["remoterecipients"] = "20\n", ["policy"] = "inet:127.0.0.1:10023\n",
            ["remoteauth"] = "relay.example:alice:secret\n", ["quarantine"] = "held@m\n",
        };
        var text = Build(files, compat: false);
        text.Should().Contain("\nremoterecipients: Remote recipients at one domain per delivery limit is 20.\n");
        text.Should().Contain("\npolicy: \nPolicy service asked by jsmail-smtpd: inet:127.0.0.1:10023\n");
        text.Should().Contain("\nquarantine: Quarantined messages go to held@m.\n");
        text.Should().Contain("\nremoteauth: jsmail-remote authenticates to the relays listed there (credentials not shown).\n");
        text.Should().NotContain("secret");
        text.Should().Contain("\nlocalinprocess: (Default.) jsmail-lspawn delivers to Maildir and mbox in-process (0: through jsmail-local) is 1.\n");
        text.Should().Contain("\nqueuedcommitwait: (Default.) jsmail-queued holds a sync for more messages (0: never) at most 1000 microseconds.\n");
        text.Should().Contain("\nmilters: (Default.) No milters are asked.\n");
        text.Should().Contain("\nsmtpplugins: (Default.) No qmail-spp plugins.\n");
        text.Should().NotContain("I have no idea");

        var qmail = Build(files, compat: true);
        qmail.Should().NotContain("localinprocess").And.NotContain("secret");
        qmail.Should().EndWith("\nremoterecipients: I have no idea what this file does.\n\npolicy: I have no idea what this file does.\n" +
            "\nremoteauth: I have no idea what this file does.\n\nquarantine: I have no idea what this file does.\n");
    }

    [Fact]
    public void Outside_compat_jsmail_files_are_described_and_rcpthosts_tells_the_truth()
    {
        var text = Build(new() { ["me"] = "m\n", ["maxrcpt"] = "5\n", ["zz"] = "", ["outgoingip"] = "192.0.2.7\n", ["remotedisable"] = "AAAA\n" }, compat: false);
        text.Should().Contain("\noutgoingip: \njsmail-remote connects from 192.0.2.7 when the peer has its address family.\n");
        text.Should().Contain("\nremotedisable: \njsmail-remote feature switched off: AAAA.\n");
        text.Should().Contain("\nrcpthosts: (Default.) SMTP clients may send messages only to recipients without a domain: without rcpthosts jsmail-smtpd relays for nobody (BCP 30).\n");
        text.Should().Contain("\nmaxrcpt: SMTP recipients per message limit (0: none) is 5.\n");
        text.Should().Contain("\nsmtpcheck: (Default.) No SMTP check program.\n");
        text.Should().EndWith("\nzz: I have no idea what this file does.\n");
        text.Should().NotContain("maxrcpt: I have no idea");
    }

    [Theory]
    [InlineData(null, null, "(Default.) No effect.\n")]
    [InlineData(null, 5L, "Oops! morercpthosts.cdb exists but morercpthosts doesn't.\n")]
    [InlineData(5L, null, "Oops! morercpthosts exists but morercpthosts.cdb doesn't.\n")]
    [InlineData(6L, 5L, "Oops! morercpthosts.cdb is older than morercpthosts.\n")]
    [InlineData(5L, 5L, "Modified recently enough; hopefully up to date.\n")]
    public void Morercpthosts_cdb_is_judged_by_mtime(long? source, long? cdb, string expected) =>
        ShowctlReport.MoreRcptHostsCdb(source, cdb).Should().Be(expected);
}
