using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Jsmail.TestSupport;

/// <summary>
/// One SMTP transaction per call, over loopback. The reply to the end of
/// DATA is the moment the message becomes the server's responsibility (a
/// 250) or is refused (a 4xx or 5xx); a refused connection, an earlier
/// refusal or a server killed mid-dialogue leaves no such reply.
/// </summary>
public static class SmtpSubmitter
{
    /// <summary>True only when the server answered 250 to the end of DATA; every failure is false, for the caller to try again.</summary>
    public static bool TrySend(int port, string from, IReadOnlyList<string> to, string message) =>
        DataReply(port, from, to, message) is { } reply && reply[0] == '2';

    /// <summary>The last line of the server's reply to the end of DATA, or null when the dialogue did not get that far.</summary>
    public static string? DataReply(int port, string from, IReadOnlyList<string> to, string message)
    {
        try
        {
            using var client = new TcpClient();
            client.ReceiveTimeout = 30_000;
            client.SendTimeout = 30_000;
            client.Connect(IPAddress.Loopback, port);
            using var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.Latin1);
            if (!Reply(reader, '2')) return null;
            if (!Command(stream, reader, "HELO crash.example", '2')) return null;
            if (!Command(stream, reader, $"MAIL FROM:<{from}>", '2')) return null;
            foreach (var r in to)
                if (!Command(stream, reader, $"RCPT TO:<{r}>", '2')) return null;
            if (!Command(stream, reader, "DATA", '3')) return null;
            var body = new StringBuilder();
            foreach (var line in message.Replace("\r\n", "\n").TrimEnd('\n').Split('\n'))
                body.Append(line.StartsWith('.') ? "." : "").Append(line).Append("\r\n");
            body.Append(".\r\n");
            var bytes = Encoding.Latin1.GetBytes(body.ToString());
            stream.Write(bytes);
            var reply = LastLine(reader);
            if (reply != null && reply[0] == '2') Command(stream, reader, "QUIT", '2');
            return reply;
        }
        catch (IOException) { return null; }
        catch (SocketException) { return null; }
    }

    private static bool Command(NetworkStream stream, StreamReader reader, string line, char expect)
    {
        stream.Write(Encoding.Latin1.GetBytes(line + "\r\n"));
        return Reply(reader, expect);
    }

    /// <summary>Reads a whole (possibly multi-line) reply; true when its code starts with <paramref name="expect"/>.</summary>
    private static bool Reply(StreamReader reader, char expect) => LastLine(reader) is { } line && line[0] == expect;

    /// <summary>The last line of a whole (possibly multi-line) reply; null when the connection ended first.</summary>
    private static string? LastLine(StreamReader reader)
    {
        while (true)
        {
            var line = reader.ReadLine();
            if (line == null || line.Length < 3) return null;
            if (line.Length == 3 || line[3] != '-') return line;
        }
    }
}
