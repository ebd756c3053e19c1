using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// BDAT (RFC 3030) through both drivers, the conversation pipelined in one
/// send, each message read back from the queue. swaks has no BDAT, so the
/// client is the test's own bytes.
/// </summary>
public sealed class BdatTests
{
    private const string Envelope = "EHLO c.example\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\n";
    private const string EnvelopeReplies = "250 2.1.0 ok\r\n250 2.1.5 ok\r\n";

    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>A message of CRLF lines, its subject naming it, with a bare LF and a "\r\n.\r\n" inside as plain text.</summary>
    private static string Text(string subject, int lines) =>
        $"Subject: {subject}\r\n\r\n" + string.Concat(Enumerable.Range(0, lines).Select(i => $"line {i:D5} {new string('z', 50)}\r\n.\r\n\n"));

    /// <summary>The message in BDAT chunks of <paramref name="size"/> bytes, ended by BDAT 0 LAST.</summary>
    private static (byte[] Bytes, string Replies) Chunked(string message, int size)
    {
        var data = B(message);
        var o = new MemoryStream();
        var replies = new StringBuilder();
        for (var at = 0; at < data.Length; at += size)
        {
            var n = Math.Min(size, data.Length - at);
            o.Write(B($"BDAT {n}\r\n"));
            o.Write(data, at, n);
            replies.Append($"250 2.0.0 {n} octets received\r\n");
        }
        replies.Append("250 2.0.0 0 octets received\r\n");
        o.Write(B("BDAT 0 LAST\r\n"));
        return (o.ToArray(), replies.ToString());
    }

    private static string Lf(string crlf) => crlf.Replace("\r\n", "\n");

    [Theory, ForEachDriver]
    public void Chunks_of_1_2_and_65536_bytes_are_queued_as_data_would_queue_them(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var one = Text("one", 1);
        var two = Text("two", 3);
        var big = Text("big", 2400); // 2.4 chunks of 64 KiB
        var conversation = new MemoryStream();
        var expected = new StringBuilder();
        foreach (var (message, size) in new[] { (one, 1), (two, 2), (big, 65536) })
        {
            conversation.Write(B("MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\n"));
            var (bytes, chunkReplies) = Chunked(message, size);
            conversation.Write(bytes);
            expected.Append(EnvelopeReplies).Append(chunkReplies);
        }
        // and the simplest form: one chunk that is the last
        var last = Text("last", 2);
        conversation.Write(B($"MAIL FROM:<s@x>\r\nRCPT TO:<a@example.com>\r\nBDAT {last.Length} LAST\r\n{last}QUIT\r\n"));
        var r = h.Talk(driver, [.. B("EHLO c.example\r\n"), .. conversation.ToArray()]);

        r.Out.Should().Contain("\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 LIMITS RCPTMAX=100\r\n");
        var after = r.Out[(r.Out.IndexOf("250 LIMITS RCPTMAX=100\r\n", StringComparison.Ordinal) + 24)..];
        // BDAT 0 LAST is answered by the queue
        var replies = expected.ToString().Replace("250 2.0.0 0 octets received\r\n", "OK\r\n") + EnvelopeReplies + "OK\r\n221 2.0.0 mx.example\r\n";
        System.Text.RegularExpressions.Regex.Replace(after, @"250 2\.0\.0 ok \d+ qp \d+", "OK").Should().Be(replies);
        h.Queued().Select(q => SmtpdHome.Body(q.Message)).Should().BeEquivalentTo([Lf(one), Lf(two), Lf(big), Lf(last)],
            "CRLF becomes LF as with DATA; the bare LF and the dot line are plain text");
    }

    [Theory, ForEachDriver]
    public void Bdat_zero_last_alone_queues_an_empty_message(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var r = h.Talk(driver, Envelope + "BDAT 0 LAST\r\nQUIT\r\n");
        r.Out.Should().MatchRegex(@"250 2\.1\.5 ok\r\n250 2\.0\.0 ok \d+ qp \d+\r\n221 2\.0\.0 mx\.example\r\n$");
        SmtpdHome.Body(h.Queued().Single().Message).Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void Bdat_mixed_with_data_is_refused_and_nothing_is_queued(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var r = h.Talk(driver, Envelope + "BDAT 7\r\nSubject" + "DATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\nQUIT\r\n");
        r.Out.Should().EndWith(EnvelopeReplies + "250 2.0.0 7 octets received\r\n503 5.5.1 DATA after BDAT (#5.5.1)\r\n" +
            "502 5.5.1 unimplemented (#5.5.1)\r\n502 5.5.1 unimplemented (#5.5.1)\r\n502 5.5.1 unimplemented (#5.5.1)\r\n" +
            "502 5.5.1 unimplemented (#5.5.1)\r\n221 2.0.0 mx.example\r\n");
        h.Queued().Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void A_chunk_over_databytes_is_read_refused_and_nothing_is_queued(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var chunk = new string('y', 5000);
        var r = h.Talk(driver, Envelope + $"BDAT 5000 LAST\r\n{chunk}BDAT 0 LAST\r\nNOOP\r\nQUIT\r\n",
            env: new Dictionary<string, string?> { ["DATABYTES"] = "1000" });
        r.Out.Should().Contain("250-SIZE 1000\r\n");
        r.Out.Should().EndWith(EnvelopeReplies + "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n" +
            "503 5.5.1 MAIL first (#5.5.1)\r\n250 2.0.0 ok\r\n221 2.0.0 mx.example\r\n", "the chunk's bytes were read, and never as commands");
        h.Queued().Should().BeEmpty();
    }

    [Theory, ForEachDriver]
    public void A_connection_dropped_mid_chunk_queues_nothing(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var r = h.Talk(driver, Envelope + "BDAT 10\r\n0123456789BDAT 1000 LAST\r\n" + Text("cut", 3));
        r.ExitCode.Should().Be(1);
        r.Out.Should().EndWith(EnvelopeReplies + "250 2.0.0 10 octets received\r\n");
        h.Queued().Should().BeEmpty();
        h.Home.Entries("mess").Should().BeEmpty("no half-written message is left behind");
    }

    [Theory, ForEachDriver]
    public void A_binarymime_message_is_queued_byte_for_byte_and_not_by_data(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var message = "Subject: bin\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            + "\0\u00ff\r\r\n.\r\n\n.\n\r" + string.Concat(Enumerable.Range(0, 256).Select(i => (char)i));
        var r = h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x> BODY=BINARYMIME\r\nRCPT TO:<a@example.com>\r\nDATA\r\n" +
            "MAIL FROM:<s@x> BODY=BINARYMIME\r\nRCPT TO:<a@example.com>\r\n" +
            $"BDAT 3\r\n{message[..3]}BDAT {message.Length - 3} LAST\r\n{message[3..]}QUIT\r\n");
        r.Out.Should().MatchRegex(@"\r\n250 2\.1\.0 ok\r\n250 2\.1\.5 ok\r\n503 5\.5\.1 BODY=BINARYMIME needs BDAT, not DATA \(#5\.5\.1\)\r\n" +
            @"250 2\.1\.0 ok\r\n250 2\.1\.5 ok\r\n250 2\.0\.0 3 octets received\r\n250 2\.0\.0 ok \d+ qp \d+\r\n221 2\.0\.0 mx\.example\r\n$");
        var (todo, queued) = h.Queued().Single();
        SmtpdHome.Body(queued).Should().Be(message);
    }

    [Theory, ForEachDriver]
    public void Under_compat_or_switched_off_bdat_is_an_unknown_verb(SmtpdDriver driver)
    {
        using var h = new SmtpdHome();
        var r = h.Talk(driver, "EHLO c.example\r\nBDAT 4 LAST\r\nQUIT\r\n", compat: true);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n502 unimplemented (#5.5.1)\r\n221 mx.example\r\n");
        h.Home.WriteControl("smtpdisable", "CHUNKING\n");
        r = h.Talk(driver, "EHLO c.example\r\nBDAT 4 LAST\r\nQUIT\r\n");
        r.Out.Should().NotContain("CHUNKING").And.NotContain("BINARYMIME").And.Contain("\r\n250-DSN\r\n250 LIMITS RCPTMAX=100\r\n502 5.5.1 unimplemented (#5.5.1)\r\n");
    }

    /// <summary>
    /// The per-connection program under the real tcpserver, the chunk coming in
    /// pieces over a socket while the client waits for each reply.
    /// </summary>
    [Fact]
    public void Under_tcpserver_a_chunk_sent_in_pieces_is_read_exactly()
    {
        using var h = new SmtpdHome();
        using var dir = new TempDir();
        var r = Run.Process("tcprules", [dir["rules.cdb"], dir["rules.tmp"]], B("127.0.0.1:allow\n:deny\n"));
        r.ExitCode.Should().Be(0, r.Err);
        var port = Ports.Free();
        using var server = Run.Start("tcpserver", ["-R", "-H", "-l", "mx.example", "-x", dir["rules.cdb"], "127.0.0.1", port.ToString(), h.Home.Bin("qmail-smtpd")],
            env: SmtpdHome.BaseEnvironment(compat: false).Where(kv => kv.Key.StartsWith("TCP") || kv.Value == null).ToDictionary(kv => kv.Key, _ => (string?)null),
            redirect: Redirect.Error | Redirect.Output);
        try
        {
            Ports.WaitForListener(port, "tcpserver");
            using var client = new TcpClient("127.0.0.1", port);
            client.ReceiveTimeout = client.SendTimeout = 30_000;
            var talk = new LineClient(client.GetStream());
            talk.Reply().Should().Be("220 mx.example ESMTP");
            talk.Send(Envelope);
            talk.Replies(30).Last().Should().Be("250 2.1.5 ok");
            var message = B(Text("pieces", 1200));
            talk.Send($"BDAT {message.Length} LAST\r\n");
            foreach (var piece in message.Chunk(1000)) talk.Send(piece);
            talk.Reply().Should().MatchRegex(@"^250 2\.0\.0 ok \d+ qp \d+$");
            talk.Send("QUIT\r\n");
            talk.Reply().Should().Be("221 2.0.0 mx.example");
            SmtpdHome.Body(h.Queued().Single().Message).Should().Be(Lf(Text("pieces", 1200)));
        }
        finally
        {
            try { server.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            server.WaitForExit(10_000);
        }
    }

    /// <summary>Reply lines off a stream, for a client that waits for each.</summary>
    private sealed class LineClient(Stream stream)
    {
        private readonly List<byte> _pending = new();

        public void Send(string text) => Send(B(text));

        public void Send(byte[] bytes)
        {
            stream.Write(bytes);
            stream.Flush();
        }

        public string Reply()
        {
            var buf = new byte[4096];
            for (var reads = 0; reads < 1000; reads++)
            {
                var lf = _pending.IndexOf((byte)'\n');
                if (lf >= 0)
                {
                    var line = Encoding.Latin1.GetString(_pending.GetRange(0, lf + 1).ToArray()).TrimEnd('\r', '\n');
                    _pending.RemoveRange(0, lf + 1);
                    return line;
                }
                var n = stream.Read(buf);
                if (n == 0) throw new EndOfStreamException("the server closed");
                _pending.AddRange(buf.AsSpan(0, n).ToArray());
            }
            throw new InvalidOperationException("no reply line");
        }

        /// <summary>Lines until one that is a final one ("250 " rather than "250-") has been read <paramref name="finals"/> times, or the count runs out.</summary>
        public List<string> Replies(int lines)
        {
            var got = new List<string>();
            var finals = 0;
            while (got.Count < lines && finals < 3)
            {
                var line = Reply();
                got.Add(line);
                if (line.Length > 3 && line[3] == ' ') finals++;
            }
            return got;
        }
    }
}
