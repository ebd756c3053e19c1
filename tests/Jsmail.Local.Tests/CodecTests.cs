using System.Text;
using Jsmail.Common.Cdb;
using Jsmail.Common.Control;
using Jsmail.Common.Local;
using Jsmail.Common.Os;
using Jsmail.Common.Spawn;
using Jsmail.LSpawn;
using Jsmail.Newu;

namespace Jsmail.Local.Tests;

/// <summary>Tables over the pure parts: wire codecs, assign parsing, lookups, .qmail parsing.</summary>
public class CodecTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(byte[] b) => Encoding.Latin1.GetString(b);

    [Theory]
    [InlineData("\u000520/457\0s@x\0u@y\0", "5|20/457|s@x|u@y")]
    [InlineData("\u0000\0\0\0", "0|||")]
    [InlineData("\u0001a\0b\0c\0\u0002d\0e\0f\0", "1|a|b|c;2|d|e|f")]
    [InlineData("\u0001a\0b\0", "")]
    public void Commands_decode_whatever_the_chunking(string stream, string expected)
    {
        foreach (var chunk in new[] { 1, 2, 7, 1000 })
        {
            var decoder = new SpawnCommandDecoder();
            var got = new List<SpawnCommand>();
            var bytes = B(stream);
            for (var i = 0; i < bytes.Length; i += chunk)
                decoder.Feed(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)), got);
            string.Join(";", got.Select(c => $"{c.Slot}|{S(c.MessageId)}|{S(c.Sender)}|{S(c.Recipient)}"))
                .Should().Be(expected, "chunks of {0}", chunk);
        }
    }

    [Fact]
    public void Results_encode_slot_status_text_nul()
    {
        SpawnerSide.EncodeResult(5, (byte)'K', B("did 1+0+0\n")).Should().Equal(B("\u0005Kdid 1+0+0\n\0"));
        SpawnerSide.SlotLimit.Should().Be(120);
    }

    [Theory]
    [InlineData("20/457", null)]
    [InlineData("", "DInternal error: messid too short. (#5.3.5)\n")]
    [InlineData("/20", "DInternal error: messid has nonnumerics. (#5.3.5)\n")]
    [InlineData("20/4a", "DInternal error: messid has nonnumerics. (#5.3.5)\n")]
    public void Message_ids_are_checked_in_qmails_order(string id, string? refusal) =>
        SpawnerSide.CheckMessageId(B(id)).Should().Be(refusal);

    [Fact]
    public void Message_id_length_counts_its_nul()
    {
        SpawnerSide.CheckMessageId(B(new string('1', 99))).Should().BeNull();
        SpawnerSide.CheckMessageId(B(new string('1', 100))).Should().Be("DInternal error: messid too long. (#5.3.5)\n");
    }

    [Theory]
    [InlineData(0, "did 1+0+0\n", "Kdid 1+0+0\n")]
    [InlineData(111 << 8, "Unable\n", "ZUnable\n")]
    [InlineData(71 << 8, "x", "Zx")]
    [InlineData(100 << 8, "no\0hidden", "Dno")]
    [InlineData(1 << 8, "x", "Dx")]
    [InlineData(9, "x", "Zqmail-local crashed.\n")]
    [InlineData(117 << 8, "x", "ZTrouble reading users/cdb in qmail-lspawn.\n")]
    [InlineData(116 << 8, "", "ZUnable to find alias user!\n")]
    [InlineData(113 << 8, "", "ZNot allowed to perform deliveries as root.\n")]
    [InlineData(126 << 8, "", "DUnable to run qmail-local.\n")]
    [InlineData(120 << 8, "", "ZUnable to run qmail-local.\n")]
    [InlineData(121 << 8, "", "ZUnable to run qmail-getpw.\n")]
    [InlineData(112 << 8, "", "ZInternal qmail-lspawn bug.\n")]
    [InlineData(115 << 8, "", "ZNFS failure in qmail-local.\n")]
    [InlineData(118 << 8, "", "ZTemporary failure in qmail-lspawn.\n")]
    [InlineData(119 << 8, "", "ZOut of memory in qmail-lspawn.\n")]
    public void Exit_statuses_become_reports(int status, string output, string report) =>
        S(LspawnExit.Report(status, B(output))).Should().Be(report);

    [Fact]
    public void Assign_file_becomes_qmails_records()
    {
        var records = UsersAssign.Parse(B("+:alias:7790:2108:/var/qmail/alias:-::\n+Joe-:joe:507:100:/home/joe:-::\n=JOE:joe:507:100:/home/joe:::\n=x:u:1:2:/h:-:e:extra:\n.\nignored"))!;
        records.Select(r => S(r.Key) + "=" + S(r.Data)).Should().Equal(
            "!=alias\u00007790\u00002108\u0000/var/qmail/alias\u0000-\u0000",
            "!joe-=joe\u0000507\u0000100\u0000/home/joe\u0000-\u0000",
            "!joe\u0000=joe\u0000507\u0000100\u0000/home/joe\u0000\u0000",
            "!x\u0000=u\u00001\u00002\u0000/h\u0000-\u0000e",
            "=-");
    }

    [Theory]
    [InlineData("=a:u:1:2:/h:::\n")] // no final "."
    [InlineData("=a:u:1:2:/h:::")]
    [InlineData("=a:u:1:2:/h::\n.\n")] // six colons
    [InlineData(":u:1:2:/h:::\n.\n")]
    [InlineData("=a\n.\n")]
    [InlineData("=a:u:1\u0000:2:/h:::\n.\n")]
    public void Bad_assign_files_are_refused(string file) => UsersAssign.Parse(B(file)).Should().BeNull();

    private static Func<byte[], byte[]?> Cdb(string assign)
    {
        var ms = new MemoryStream();
        using (var w = new CdbWriter(ms, leaveOpen: true))
        {
            foreach (var r in UsersAssign.Parse(B(assign))!) w.Add(r.Key, r.Data);
            w.Finish();
        }
        return UsersCdb.Over(new CdbReader(ms.ToArray()));
    }

    [Theory] // §16 item 19
    [InlineData("joe", "joe|/home/joe||")]
    [InlineData("JOE", "joe|/home/joe||")]
    [InlineData("joe-Foo", "joe|/home/joe|-|Foo")]
    [InlineData("joe-", "joe|/home/joe|-|")]
    [InlineData("Bob", "alias|/var/qmail/alias|-|Bob")]
    [InlineData("joex", "alias|/var/qmail/alias|-|joex")]
    public void Users_cdb_exact_beats_longer_wildcard_beats_shorter(string local, string expected)
    {
        var lookup = Cdb("+:alias:7790:2108:/var/qmail/alias:-::\n+joe-:joe:507:100:/home/joe:-::\n=joe:joe:507:100:/home/joe:::\n.\n");
        var a = UsersCdb.Find(lookup, B(local), out var malformed)!;
        malformed.Should().BeFalse();
        $"{S(a.User)}|{S(a.Home)}|{S(a.Dash)}|{S(a.Ext)}".Should().Be(expected);
    }

    [Fact]
    public void Users_cdb_without_catch_all_assigns_nothing() =>
        UsersCdb.Find(Cdb("=joe:joe:507:100:/home/joe:::\n.\n"), B("bob"), out _).Should().BeNull();

    [Theory]
    [InlineData("joe-foo-bar", "11,7,3")]
    [InlineData("joe", "3")]
    [InlineData("-x", "2,0")]
    public void Getpw_candidates_are_prefixes_before_a_break(string local, string lengths) =>
        string.Join(",", PasswdMatch.CandidateLengths(B(local))).Should().Be(lengths);

    [Fact]
    public void Getpw_ignores_prefixes_of_32_bytes_or_more() =>
        PasswdMatch.CandidateLengths(B(new string('a', 40) + "-b-c")).Should().BeEmpty();

    [Theory] // §16 item 22
    [InlineData("-", "a-b-c", ".qmail-a-b-c|.qmail-a-b-default|.qmail-a-default|.qmail-default")]
    [InlineData("-", "A.B", ".qmail-a:b|.qmail-default")]
    [InlineData("", "", ".qmail|.qmaildefault")]
    [InlineData("-", "../../etc", ".qmail-::/::/etc|.qmail-default")]
    public void Dot_qmail_search_order(string dash, string ext, string names) =>
        string.Join("|", DotQmail.Candidates(B(dash), B(ext)).Select(c => S(c.Name)))
            .Should().Be(names);

    [Fact]
    public void Default_is_the_part_of_ext_the_default_stands_for()
    {
        var c = DotQmail.Candidates(B("-"), B("Foo-Bar"));
        c.Select(x => x.Default == null ? "-" : S(x.Default)).Should().Equal("-", "Bar", "Foo-Bar");
        DotQmail.Candidates(B("-"), B("x-default"))[0].Default.Should().Equal(B("default"));
    }

    [Fact]
    public void Instructions_are_classified_by_first_and_last_byte()
    {
        var list = DotQmail.Parse(B("./Maildir/  \n# c\n\n./mbox\t\n/abs/box\n|prog a b\n&x@y\nz@w\n+list\n+other\n|cut\0here\n./M/\0x"));
        list.Select(i => i.Kind + ":" + S(i.Argument)).Should().Equal(
            "Maildir:./Maildir/", "Comment:", "Blank:", "Mbox:./mbox", "Mbox:/abs/box", "Program:prog a b",
            "Forward:x@y", "Forward:z@w", "ListMode:", "Ignored:", "Program:cut", "Mbox:./M/");
    }

    [Theory]
    [InlineData(new[] { "u", "/h", "l", "", "", "d", "s", "./M" }, true)]
    [InlineData(new[] { "-n", "u", "/h", "l", "", "", "d", "s", "./M" }, false)]
    [InlineData(new[] { "-nN", "--", "u", "/h", "l", "", "", "d", "s", "./M" }, true)]
    public void Arguments_parse(string[] argv, bool deliver) =>
        LocalArgs.Parse(argv.Select(B).ToList())!.Deliver.Should().Be(deliver);

    [Theory]
    [InlineData("u|h|l|||d|s|./M")]
    [InlineData("-x|u|/h|l|||d|s|./M")]
    [InlineData("u|/h|l|||d|s")]
    public void Bad_arguments_are_usage(string argv) => LocalArgs.Parse(argv.Split('|').Select(B).ToList()).Should().BeNull();

    [Fact]
    public void Environment_values_follow_qmail()
    {
        var a = LocalArgs.Parse(new[] { "joe", "/home/joe", "joe-a-b-c-d", "-", "a-b-c-d", "mx.mail.example.com", "s b@x", "./M" }.Select(B).ToList())!;
        var env = new DeliveryLines(a, 1704445623).Environment(a).ToDictionary(e => e.Name, e => S(e.Value));
        env["EXT2"].Should().Be("b-c-d");
        env["EXT3"].Should().Be("c-d");
        env["EXT4"].Should().Be("d");
        env["RPLINE"].Should().Be("Return-Path: <\"s b\"@x>\n");
        env["DTLINE"].Should().Be("Delivered-To: joe-a-b-c-d@mx.mail.example.com\n");
        env["UFLINE"].Should().Be("From s-b@x Fri Jan 05 09:07:03 2024\n");
        env["RECIPIENT"].Should().Be("joe-a-b-c-d@mx.mail.example.com");
    }

    [Fact]
    public void UTF8_local_parts_keep_their_bytes_only_ASCII_is_lowercased()
    {
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        // qmail's case_lowerb: A-Z only, so Ö stays Ö (a .qmail-jÖsé file serves only that spelling)
        DotQmail.SafeExt(U("JöSé.Ö")).Should().Equal(U("jösé:Ö"));
        DotQmail.Candidates(U("-"), U("JöSé-X"))
            .Select(c => Encoding.UTF8.GetString(c.Name)).Should().Equal(".qmail-jösé-x", ".qmail-jösé-default", ".qmail-default");
        Jsmail.Common.Control.UsersCdb.ExactKey(U("JöSé")).Should().Equal([(byte)'!', .. U("jösé"), 0]);

        var a = LocalArgs.Parse(new[] { "u", "/h", "jösé", "", "", "x.example", "sénder@y", "./M" }.Select(U).ToList())!;
        var lines = new DeliveryLines(a, 1704445623, utf8: true);
        Encoding.UTF8.GetString(lines.DtLine).Should().Be("Delivered-To: jösé@x.example\n");
        Encoding.UTF8.GetString(lines.RpLine).Should().Be("Return-Path: <sénder@y>\n");
        Encoding.UTF8.GetString(lines.UfLine).Should().Be("From sénder@y Fri Jan 05 09:07:03 2024\n");
        Encoding.UTF8.GetString(new DeliveryLines(a, 1704445623).RpLine).Should().Be("Return-Path: <\"sénder\"@y>\n", "qmail quotes an 8-bit local part");
    }

    // Each level cuts the one before at its last '.'; with no '.' left it keeps that value (interfaces §5.3).
    [Theory]
    [InlineData("mx.mail.example.com", "mx.mail.example", "mx.mail", "mx")]
    [InlineData("a.b.c.d.e", "a.b.c.d", "a.b.c", "a.b")]
    [InlineData("d.example", "d", "d", "d")]
    [InlineData("example", "example", "example", "example")]
    [InlineData("a.b", "a", "a", "a")]
    public void Host_levels_follow_qmail(string host, string host2, string host3, string host4)
    {
        var a = LocalArgs.Parse(new[] { "joe", "/home/joe", "joe", "", "", host, "s@x", "./M" }.Select(B).ToList())!;
        var env = new DeliveryLines(a, 1704445623).Environment(a).ToDictionary(e => e.Name, e => S(e.Value));
        (env["HOST"], env["HOST2"], env["HOST3"], env["HOST4"]).Should().Be((host, host2, host3, host4));
    }

    [Theory] // §16 item 29
    [InlineData("a\nFrom x\n>From y\n>>From z\nFromage\n From w", "a\n>From x\n>>From y\n>>>From z\nFromage\n From w\n")]
    [InlineData("", "")]
    [InlineData("From ", ">From \n")]
    [InlineData(">>>", ">>>\n")]
    public void Mbox_quoting(string message, string written)
    {
        foreach (var chunk in new[] { 1, 3, 1000 })
        {
            var fd = Libc.MemfdCreate("q", 0);
            var w = new FdWriter(fd);
            var q = new FromQuoter(w);
            var m = B(message);
            for (var i = 0; i < m.Length; i += chunk) q.Write(m.AsSpan(i, Math.Min(chunk, m.Length - i)));
            q.Finish();
            w.Flush();
            Libc.Lseek(fd, 0, 0);
            var buf = new byte[4096];
            var n = Libc.Read(fd, buf);
            Libc.Close(fd);
            S(buf[..n]).Should().Be(written);
        }
    }
}
