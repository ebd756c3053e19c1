using System.Net;
using Jsmail.Common.Tcp;
using Jsmail.SmtpServer;

namespace Jsmail.Smtpd.Tests;

/// <summary>The pure parts of server mode: listen addresses, admission counts, deadlines, the session environment.</summary>
public sealed class ServerModeUnitTests
{
    [Theory]
    [InlineData("127.0.0.1:25", "127.0.0.1", 25, ListenRole.Smtp)]
    [InlineData("0.0.0.0:587/submission", "0.0.0.0", 587, ListenRole.Submission)]
    [InlineData("[::1]:2525", "::1", 2525, ListenRole.Smtp)]
    [InlineData("[::]:465/smtps", "::", 465, ListenRole.Smtps)]
    public void Listen_addresses_parse_with_their_role(string text, string ip, int port, ListenRole role)
    {
        ListenAddress.TryParse(text, out var a, out var error).Should().BeTrue(error);
        a.Should().Be(new ListenAddress(IPAddress.Parse(ip), port, role));
    }

    [Theory]
    [InlineData("::1:25")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("localhost:25")]
    [InlineData("127.0.0.1:25/lmtp")]
    [InlineData("[::1]25")]
    public void Bad_listen_addresses_are_refused_with_a_reason(string text)
    {
        ListenAddress.TryParse(text, out _, out var error).Should().BeFalse();
        error.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void Each_limit_has_its_421()
    {
        LimitReplies.For(ConnectionLimit.Global).Should().Equal("421 4.7.0 too many connections, try again later\r\n"u8.ToArray());
        LimitReplies.For(ConnectionLimit.PerClient).Should().Equal("421 4.7.0 too many connections from your address, try again later\r\n"u8.ToArray());
        LimitReplies.For(ConnectionLimit.PerClientRate).Should()
            .Equal("421 4.7.0 too many connections from your address in the last minute, try again later\r\n"u8.ToArray());
    }

    [Fact]
    public void The_session_deadline_and_the_io_deadline_each_expire()
    {
        using var timer = new ConnectionTimer(nowMs: 0, sessionSeconds: 10);
        timer.Due(5_000).Should().Be(Expiry.None);
        timer.StartIo(5_000, seconds: 2);
        timer.Due(6_999).Should().Be(Expiry.None);
        timer.Due(7_000).Should().Be(Expiry.Io);
        timer.EndIo();
        timer.Due(9_999).Should().Be(Expiry.None, "no read or write is waiting");
        timer.Due(10_000).Should().Be(Expiry.Session);
        timer.Expire(Expiry.Session);
        timer.Token.IsCancellationRequested.Should().BeTrue();
        timer.Expire(Expiry.Io);
        timer.Expired.Should().Be(Expiry.Session, "the first expiry is the one reported");
    }

    [Fact]
    public void Session_environment_reads_the_last_entry_and_databytes_as_scan_ulong()
    {
        IReadOnlyList<byte[]> env = ["A=1"u8.ToArray(), "DATABYTES=12x4"u8.ToArray(), "A=2"u8.ToArray(), "AB=3"u8.ToArray()];
        SessionEnvironment.GetText(env, "A"u8).Should().Be("2");
        SessionEnvironment.Get(env, "B"u8).Should().BeNull();
        SessionEnvironment.DataBytes(env).Should().Be(12);
    }
}
