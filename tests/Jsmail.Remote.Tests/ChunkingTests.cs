using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// BDAT (RFC 3030 CHUNKING) and BODY=BINARYMIME in jsmail-remote and in
/// jsmail-rspawn's pooled deliveries, against the scripted peer, which
/// records every byte: chunk sizes, LAST, line ends, no dot-stuffing; the
/// refusals and their reports; CHUNKING in remotedisable and compat mode.
/// </summary>
public class ChunkingTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-chunking");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private const string Accepted = "r|K127.0.0.1 accepted message.\nRemote host said: 250 ok 1 qp 2\n|";

    private static JsonObject Offering(params string[] keywords) => new()
    {
        ["replies"] = new JsonObject
        {
            ["EHLO"] = string.Join("\r\n", new[] { "stub" }.Concat(keywords).Select((k, i) => (i == keywords.Length ? "250 " : "250-") + k)),
        },
    };

    private StubPeer Peer(JsonObject config)
    {
        var peer = new StubPeer(config: config);
        _home.WriteControl("smtproutes", $"x.test:127.0.0.1:{peer.Port}\n");
        return peer;
    }

    /// <summary>jsmail-remote with the message (Latin-1 bytes) on fd 0; fd 1 with NULs as '|'.</summary>
    private string Remote(string message, string? mailParameters = null, bool compat = false, params string[] recipients)
    {
        File.WriteAllBytes(_dir["msg"], Encoding.Latin1.GetBytes(message));
        var env = new Dictionary<string, string?>
        {
            ["MSG"] = _dir["msg"], ["JSMAIL_COMPAT"] = compat ? "qmail" : null, ["JSMAIL_MAIL_PARAMETERS"] = mailParameters,
        };
        var r = Run.Process("/bin/bash", new[] { "-c", "exec \"$0\" \"$@\" <\"$MSG\"", _home.Bin("qmail-remote"), "x.test", "a@b" }
            .Concat(recipients.Length > 0 ? recipients : ["c@x.test"]), env: env, timeoutMs: 60_000);
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(0);
        return Encoding.Latin1.GetString(r.Stdout).Replace('\0', '|');
    }

    /// <summary>The chunks in what the peer received: each BDAT's size, LAST, and its bytes.</summary>
    internal static List<(int Size, bool Last, string Bytes)> Chunks(string received)
    {
        var chunks = new List<(int, bool, string)>();
        var at = 0;
        while (Regex.Match(received[at..], @"(?:^|\r\n)BDAT (\d+)( LAST)?\r\n") is { Success: true } m)
        {
            var size = int.Parse(m.Groups[1].Value);
            var start = at + m.Index + m.Length;
            chunks.Add((size, m.Groups[2].Success, received.Substring(start, size)));
            at = start + size - (size >= 2 && received.Substring(start + size - 2, 2) == "\r\n" ? 2 : 0);
        }
        return chunks;
    }

    private const string Dotted = "From: a@b\nSubject: caf\u00e9\n\n.leading dot\n..two dots\n.\nend\n";

    [Fact]
    public void Bdat_sends_crlf_lines_without_dot_stuffing_or_final_dot_as_one_last_chunk()
    {
        using var peer = Peer(Offering("8BITMIME", "CHUNKING"));
        Remote(Dotted).Should().Be(Accepted);
        var wire = Dotted.Replace("\n", "\r\n");
        var received = peer.Received;
        received.Should().NotContain("DATA\r\n")
            .And.EndWith($"RCPT TO:<c@x.test>\r\nBDAT {wire.Length} LAST\r\n{wire}QUIT\r\n");
        received.Should().Contain("MAIL FROM:<a@b> BODY=8BITMIME\r\n");
    }

    [Theory]
    [InlineData(150_000, new[] { 65536, 65536 })]
    [InlineData(131_072, new[] { 65536 })]
    [InlineData(65_536, new int[0])]
    [InlineData(100, new int[0])]
    public void A_big_message_goes_in_chunks_of_65536_bytes_and_the_last_is_never_empty(int wireBytes, int[] before)
    {
        // lines of 50 bytes on the wire (48 and CRLF), the last one shortened to hit the size
        var lines = new StringBuilder();
        var left = wireBytes;
        for (var i = 0; left > 0; i++)
        {
            var n = Math.Min(50, left);
            lines.Append(new string((char)('a' + i % 26), n - 2)).Append('\n');
            left -= n;
        }
        using var peer = Peer(Offering("CHUNKING"));
        Remote(lines.ToString()).Should().Be(Accepted);
        var chunks = Chunks(peer.Received);
        chunks.Select(c => c.Size).Should().Equal([.. before, wireBytes - before.Sum()]);
        chunks.Select(c => c.Last).Should().Equal([.. before.Select(_ => false), true]);
        string.Concat(chunks.Select(c => c.Bytes)).Should().Be(lines.ToString().Replace("\n", "\r\n"));
    }

    [Fact]
    public void An_empty_message_is_bdat_0_last()
    {
        using var peer = Peer(Offering("CHUNKING"));
        Remote("").Should().Be(Accepted);
        peer.Received.Should().EndWith("RCPT TO:<c@x.test>\r\nBDAT 0 LAST\r\nQUIT\r\n");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Chunks_are_pipelined_only_when_the_peer_offers_pipelining(bool pipelining)
    {
        var config = Offering(pipelining ? ["PIPELINING", "CHUNKING"] : ["CHUNKING"]);
        config["hold"] = 0.2;
        using var peer = Peer(config);
        Remote(new string('x', 99) + "\n" + string.Concat(Enumerable.Repeat(new string('y', 999) + "\n", 150))).Should().Be(Accepted);
        var t = peer.Transcript.SkipWhile(l => !l.StartsWith("C: BDAT")).Take(6).ToArray();
        var last = $"C: BDAT {101 + 150 * 1001 - 2 * 65536} LAST";
        t.Should().Equal(pipelining
            ? ["C: BDAT 65536", "C: BDAT 65536", last, "S: 250 2.0.0 chunk ok", "S: 250 2.0.0 chunk ok", "S: 250 ok 1 qp 2"]
            : ["C: BDAT 65536", "S: 250 2.0.0 chunk ok", "C: BDAT 65536", "S: 250 2.0.0 chunk ok", last, "S: 250 ok 1 qp 2"]);
    }

    [Theory]
    [InlineData("BDAT", "554 5.6.0 not this", "D127.0.0.1 failed on BDAT command.\nRemote host said: 554 5.6.0 not this\n")]
    [InlineData("BDAT", "451 4.3.0 later", "Z127.0.0.1 failed on BDAT command.\nRemote host said: 451 4.3.0 later\n")]
    [InlineData("DOT", "552 5.3.4 too big", "D127.0.0.1 failed after I sent the message.\nRemote host said: 552 5.3.4 too big\n")]
    [InlineData("DOT", "452 4.3.1 full", "Z127.0.0.1 failed after I sent the message.\nRemote host said: 452 4.3.1 full\n")]
    public void A_refused_chunk_stops_the_message_and_is_reported_in_qmails_words(string which, string reply, string report)
    {
        var config = Offering("CHUNKING");
        config["replies"]!["BDAT"] = which == "BDAT" ? reply : "250 2.0.0 chunk ok";
        if (which == "DOT") config["replies"]!["DOT"] = reply;
        using var peer = Peer(config);
        Remote(string.Concat(Enumerable.Repeat(new string('y', 999) + "\n", 100))).Should().Be("r|" + report + "|");
        var t = peer.Transcript;
        t.Count(l => l.StartsWith("C: BDAT")).Should().Be(which == "BDAT" ? 1 : 2, "nothing follows a refused chunk");
        t.Should().Contain("C: QUIT");
    }

    [Theory]
    [InlineData("BDAT", "ZConnected to 127.0.0.1 but connection died. (#4.4.2)\n")]
    [InlineData("DOT", "ZConnected to 127.0.0.1 but connection died. Possible duplicate! (#4.4.2)\n")]
    public void A_connection_dying_after_the_last_chunk_is_a_possible_duplicate(string closeOn, string report)
    {
        var config = Offering("CHUNKING");
        config["close_on"] = closeOn;
        using var peer = Peer(config);
        Remote(string.Concat(Enumerable.Repeat(new string('y', 999) + "\n", 100))).Should().Be("r|" + report + "|");
    }

    [Fact]
    public void A_partial_last_line_goes_exactly_by_bdat_and_is_refused_by_data()
    {
        const string message = "Subject: x\n\nno line end";
        using (var peer = Peer(Offering("CHUNKING")))
        {
            Remote(message).Should().Be(Accepted);
            const string wire = "Subject: x\r\n\r\nno line end";
            peer.Received.Should().EndWith($"BDAT {wire.Length} LAST\r\n{wire}QUIT\r\n");
        }
        _home.WriteControl("remotedisable", "CHUNKING\n");
        using (var peer = Peer(Offering("CHUNKING")))
        {
            Remote(message).Should().Be("r|DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n|");
            peer.Received.Should().NotContain("DATA").And.NotContain("BDAT");
        }
    }

    /// <summary>As jsmail-smtpd queues a BINARYMIME message: its own Received line (LF) over the client's bytes (CRLF, and anything).</summary>
    private const string Binary = "Received: from x\n  by mx.test; 5 Dec 2026\nSubject: bin\r\nMIME-Version: 1.0\r\n\r\n\u0000\u0001\u00ff raw\r\nbare LF\nlone CR\r.\r\n.\r\n";

    [Fact]
    public void A_binarymime_message_goes_by_bdat_with_its_body_byte_for_byte()
    {
        using var peer = Peer(Offering("8BITMIME", "CHUNKING", "BINARYMIME", "SIZE 100000"));
        Remote(Binary, mailParameters: "BODY=BINARYMIME").Should().Be(Accepted);
        var wire = Binary.Replace("x\n  by mx.test; 5 Dec 2026\n", "x\r\n  by mx.test; 5 Dec 2026\r\n");
        peer.Received.Should().Contain($"MAIL FROM:<a@b> SIZE={Binary.Length} BODY=BINARYMIME\r\n")
            .And.EndWith($"RCPT TO:<c@x.test>\r\nBDAT {wire.Length} LAST\r\n{wire}QUIT\r\n");
    }

    [Theory]
    [InlineData("8BITMIME,CHUNKING", "",
        "DConnected to 127.0.0.1 but it does not support CHUNKING and BINARYMIME, and this message is binary (BODY=BINARYMIME). (#5.6.3)\n|")]
    [InlineData("8BITMIME,BINARYMIME", "",
        "DConnected to 127.0.0.1 but it does not support CHUNKING and BINARYMIME, and this message is binary (BODY=BINARYMIME). (#5.6.3)\n|")]
    [InlineData("8BITMIME,CHUNKING,BINARYMIME", "CHUNKING",
        "DConnected to 127.0.0.1, but this message is binary (BODY=BINARYMIME) and can only be sent with BDAT, which control/remotedisable switches off. (#5.6.3)\n|")]
    public void A_binarymime_message_is_returned_not_converted_where_it_cannot_go(string offered, string disabled, string report)
    {
        _home.WriteControl("remotedisable", disabled + "\n");
        using var peer = Peer(Offering(offered.Split(',')));
        Remote(Binary, mailParameters: "BODY=BINARYMIME").Should().Be(report);
        peer.Received.Should().NotContain("MAIL FROM");
    }

    [Theory]
    [InlineData(false, "EHLO")]
    [InlineData(true, "HELO")]
    public void Chunking_off_or_compat_mode_send_data_as_before(bool compat, string hello)
    {
        if (!compat) _home.WriteControl("remotedisable", "CHUNKING\n");
        using var peer = Peer(Offering("8BITMIME", "CHUNKING", "BINARYMIME"));
        Remote(Dotted, compat: compat).Should().Be(Accepted);
        var received = peer.Received;
        received.Should().StartWith(hello + " ").And.NotContain("BDAT")
            .And.EndWith("RCPT TO:<c@x.test>\r\nDATA\r\n" + Dotted.Replace("\n.", "\n..").Replace("\n", "\r\n") + ".\r\nQUIT\r\n");
    }

    [Fact]
    public void Pooled_deliveries_send_bdat_too()
    {
        using var peer = new StubPeer(config: Offering("PIPELINING", "8BITMIME", "CHUNKING"));
        _home.WriteControl("smtproutes", $"y.test:127.0.0.1:{peer.Port}\n");
        _home.WriteControl("remotesessions", "1\n");
        var commands = new List<byte>();
        foreach (var i in new[] { 0, 1 })
        {
            File.WriteAllText(_home.Queue($"mess/0/70{i}"), Dotted, Encoding.Latin1);
            commands.AddRange([(byte)i, .. Encoding.Latin1.GetBytes($"0/70{i}\0s@x\0u{i}@y.test\0")]);
        }
        File.WriteAllBytes(_dir["commands"], [.. commands]);
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]],
            env: new Dictionary<string, string?> { ["PATH"] = _home.Path + "/bin:/usr/bin:/bin" });
        r.ExitCode.Should().Be(0, r.Err);
        var output = Encoding.Latin1.GetString(r.Stdout);
        output.Split("K127.0.0.1 accepted message.").Length.Should().Be(3, output);
        var wire = Dotted.Replace("\n", "\r\n");
        var received = peer.Received;
        Regex.Matches(received, $"RCPT TO:<u[01]@y.test>\r\nBDAT {wire.Length} LAST\r\n{Regex.Escape(wire)}").Count.Should().Be(2);
        received.Should().NotContain("RSET\r\n", "an accepted message ends its transaction").And.NotContain("DATA\r\n");
        peer.Clients.Should().HaveCount(1);
    }
}
