using System.Net;
using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Smtp;
using Jsmail.Remote;

namespace Jsmail.Remote.Tests;

public class DataEncoderTests
{
    public static TheoryData<string, string?> Cases => new()
    {
        // message, DATA bytes (null: refused as a partial final line)
        { "a\n", "a\r\n.\r\n" },
        { "a\r\n", "a\r\n.\r\n" },
        { ".a\n", "..a\r\n.\r\n" },
        { "a\n.\n", "a\r\n..\r\n.\r\n" },
        { "a\n..b\n", "a\r\n...b\r\n.\r\n" },
        { "a\rb\n", "a\r\nb\r\n.\r\n" },
        { "a\r\r\n", "a\r\n\r\n.\r\n" },
        { "a\r", "a\r\n.\r\n" },
        { "\n", "\r\n.\r\n" },
        { "", ".\r\n" },
        { "a", null },
        { "a\nb", null },
        { "x\n\r.\r\n", "x\r\n\r\n..\r\n.\r\n" },
        { "a.b\n", "a.b\r\n.\r\n" },
        { "\xe9t\xe9\n", "\xe9t\xe9\r\n.\r\n" },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Encodes_as_qmail_remote_in_any_chunking(string message, string? expected)
    {
        foreach (var chunk in new[] { 1, 2, 3, 1000 })
        {
            var encoder = new DataEncoder();
            var output = new List<byte>();
            var bytes = Encoding.Latin1.GetBytes(message);
            for (var i = 0; i < bytes.Length; i += chunk)
                encoder.Encode(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)), output);
            var finished = encoder.TryFinish(output);
            if (expected == null) finished.Should().BeFalse();
            else
            {
                finished.Should().BeTrue();
                Encoding.Latin1.GetString(output.ToArray()).Should().Be(expected, $"chunk {chunk}");
            }
        }
    }
}

public class TcptoTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.8");

    [Fact]
    public void Two_timeouts_at_least_two_minutes_apart_mark_an_address_down()
    {
        var t = new byte[Tcpto.Size];
        Tcpto.Record(t, A, timedOut: true, now: 1000);
        Tcpto.IsDown(t, A, 1001, pid: 0).Should().BeFalse("one timeout is not enough");
        Tcpto.Record(t, A, timedOut: true, now: 1050);
        t[4].Should().Be(1, "a second timeout within 120 s counts as the same outage");
        Tcpto.Record(t, A, timedOut: true, now: 1120);
        t[4].Should().Be(2);
        Tcpto.IsDown(t, A, 1121, pid: 0).Should().BeTrue();
        Tcpto.IsDown(t, B, 1121, pid: 0).Should().BeFalse();
        t.AsSpan(0, 4).ToArray().Should().Equal(192, 0, 2, 7);
        BitConverter.ToUInt32(t, 8).Should().Be(1120u, "the time is little-endian");
    }

    [Theory]
    [InlineData(0, 60 * 64)]
    [InlineData(31, 91 * 64)]
    [InlineData(37, 65 * 64)]
    public void Down_for_60_plus_pid_mod_32_times_64_seconds(int pid, long seconds)
    {
        var t = new byte[Tcpto.Size];
        Tcpto.Record(t, A, true, 0);
        Tcpto.Record(t, A, true, 200);
        Tcpto.IsDown(t, A, 200 + seconds - 1, pid).Should().BeTrue();
        Tcpto.IsDown(t, A, 200 + seconds, pid).Should().BeFalse();
    }

    [Fact]
    public void Success_or_another_error_resets_the_count_and_counts_stop_at_10()
    {
        var t = new byte[Tcpto.Size];
        for (var i = 0; i < 15; i++) Tcpto.Record(t, A, true, 1000 + i * 200);
        t[4].Should().Be(10);
        Tcpto.Record(t, A, false, 5000);
        t[4].Should().Be(0);
        Tcpto.IsDown(t, A, 5001, 0).Should().BeFalse();
    }

    [Fact]
    public void A_full_table_replaces_the_entry_least_worth_keeping()
    {
        var t = new byte[Tcpto.Size];
        for (var i = 0; i < 64; i++) Tcpto.Record(t, IPAddress.Parse($"198.51.100.{i}"), true, 10_000 + i);
        Tcpto.Record(t, A, true, 20_000);
        t.AsSpan(0, 4).ToArray().Should().Equal(new byte[] { 192, 0, 2, 7 }, "slot 0 had the smallest time + count*1024");
    }

    [Fact]
    public void IPv6_addresses_are_not_recorded()
    {
        var t = new byte[Tcpto.Size];
        Tcpto.Record(t, IPAddress.IPv6Loopback, true, 1000);
        t.Should().OnlyContain(b => b == 0);
    }
}

public class RoutesTests
{
    private static ControlMap Map(params string[] lines) => new(lines.Select(Encoding.Latin1.GetBytes));

    [Theory]
    [InlineData("example.com", "relay.example.net", 2525)]
    [InlineData("EXAMPLE.COM", "relay.example.net", 2525)]
    [InlineData("a.example.com", null, 0)]
    [InlineData("a.b.example.com", null, 0)]
    [InlineData("other.org", "smarthost", 25)]
    [InlineData("x.sub.org", "sub-relay", 25)]
    public void Routes_as_qmail(string host, string? relay, int port)
    {
        var routes = Map("example.com:relay.example.net:2525", ".example.com:", ":smarthost", ".sub.org:sub-relay");
        var r = Routes.Find(routes, Encoding.Latin1.GetBytes(host));
        if (relay == null) r.Should().BeNull();
        else r.Should().Be(new Route(relay, port));
    }

    [Fact]
    public void No_routes_means_MX() => Routes.Find(Map(), "x.org"u8).Should().BeNull();

    // A bracketed relay is taken whole before the port; qmail (compat mode) cuts at the first colon,
    // and so does jsmail for a relay that is not bracketed, a bare IPv6 address too.
    [Theory]
    [InlineData("[IPv6:2001:db8::1]", false, "[IPv6:2001:db8::1]", 25)]
    [InlineData("[IPv6:2001:db8::1]:2525", false, "[IPv6:2001:db8::1]", 2525)]
    [InlineData("[IPv6:::1]:26", false, "[IPv6:::1]", 26)]
    [InlineData("[192.0.2.1]:2525", false, "[192.0.2.1]", 2525)]
    [InlineData("[192.0.2.1]", false, "[192.0.2.1]", 25)]
    [InlineData("192.0.2.1:2525", false, "192.0.2.1", 2525)]
    [InlineData("2001:db8::1", false, "2001", 25)]
    [InlineData("[IPv6:2001:db8::1", false, "[IPv6", 2001)]
    [InlineData("[IPv6:2001:db8::1]x:2525", false, "[IPv6", 2001)]
    [InlineData("[IPv6:2001:db8::1]:2525", true, "[IPv6", 2001)]
    [InlineData("[IPv6:2001:db8::1]", true, "[IPv6", 2001)]
    [InlineData("[]:2525", false, "[]", 2525)]
    public void Bracketed_relays_keep_their_colons(string value, bool compat, string relay, int port) =>
        Routes.Find(Map("x.test:" + value), "x.test"u8, compat).Should().Be(new Route(relay, port));
}

public class ReplyParserTests
{
    [Fact]
    public void Multiline_reply_keeps_every_line_and_the_first_code()
    {
        var p = new ServerReplyParser();
        p.Add("250-first\r"u8).Should().BeNull();
        p.Add("550-mixed\r"u8).Should().BeNull();
        var r = p.Add("250 last"u8)!;
        r.Code.Should().Be(250);
        Encoding.Latin1.GetString(r.Text).Should().Be("250-first\n550-mixed\n250 last\n");
    }

    [Theory]
    [InlineData("250 ok", 250)]
    [InlineData("2x0 ok", 0)]
    [InlineData("25", 0)]
    [InlineData("", 0)]
    public void Codes(string line, int code) => ServerReplyParser.CodeOf(Encoding.Latin1.GetBytes(line)).Should().Be(code);

    [Fact]
    public void Nul_becomes_a_question_mark_and_lines_are_cut_at_5000()
    {
        var r = new ServerReplyParser().Add(Encoding.Latin1.GetBytes("550 a\0b" + new string('x', 6000)))!;
        r.Lines[0].Length.Should().Be(5000);
        Encoding.Latin1.GetString(r.Lines[0]).Should().StartWith("550 a?b");
    }

    [Fact]
    public void Ehlo_keywords()
    {
        var p = new ServerReplyParser();
        p.Add("250-mx.example"u8);
        p.Add("250-SIZE 1000"u8);
        p.Add("250-8bitmime"u8);
        var r = p.Add("250 PIPELINING"u8)!;
        r.Extensions.Should().Equal(("SIZE", "1000"), ("8BITMIME", ""), ("PIPELINING", ""));
    }
}

public class LiteralTests
{
    [Theory]
    [InlineData("1.2.3.4", true, "1.2.3.4")]
    [InlineData("[1.2.3.4]", true, "1.2.3.4")]
    [InlineData("[IPv6:::1]", true, "::1")]
    [InlineData("[IPv6:::1]", false, null)]
    [InlineData("1.2.3", true, null)]
    [InlineData("example.com", true, null)]
    [InlineData("1.2.3.4.5", true, null)]
    [InlineData("[1.2.3.999]", true, null)]
    public void Recognises_address_literals(string host, bool ipv6, string? ip) =>
        (MailHosts.Literal(host, ipv6)?.ToString()).Should().Be(ip);
}

public class OutgoingIpTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("127.0.0.2\n", "127.0.0.2")]
    [InlineData(" 127.0.0.2 \n", "127.0.0.2")]
    [InlineData("::1\n127.0.0.3\n", "::1 127.0.0.3")]
    [InlineData("127.0.0.2\n127.0.0.3\n", "127.0.0.2")] // the first of a family counts
    [InlineData("\n\n10.1.2.3\n", "10.1.2.3")]
    public void Reads_one_address_per_family(string file, string expected)
    {
        var lines = file.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Encoding.ASCII.GetBytes).ToList();
        string.Join(' ', RemoteSettings.OutgoingIpsOf(lines).Select(a => a.ToString())).Should().Be(expected);
    }

    [Theory]
    [InlineData("mail.example\n")]
    [InlineData("127.0.0.2:25\n")]
    [InlineData("fe80::1%eth0\n")]
    [InlineData("127.0.0.1 127.0.0.2\n")]
    public void Anything_but_an_address_is_a_configuration_error(string file)
    {
        var lines = file.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Encoding.ASCII.GetBytes).ToList();
        var read = () => RemoteSettings.OutgoingIpsOf(lines);
        read.Should().Throw<Jsmail.Common.Control.ControlReadException>();
    }
}
