using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Jsmail.E2E.Tests;

/// <summary>
/// One SMTP transaction per call, over loopback: true only when the server
/// answered 250 to the end of DATA, the moment the message becomes the
/// server's responsibility. Every failure (a refused connection, a 4xx, a
/// server killed mid-dialogue) is false, for the caller to try again.
/// </summary>
public static class SmtpSubmitter
{
    public static bool TrySend(int port, string from, IReadOnlyList<string> to, string message)
    {
        try
        {
            using var client = new TcpClient();
            client.ReceiveTimeout = 30_000;
            client.SendTimeout = 30_000;
            client.Connect(IPAddress.Loopback, port);
            using var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.Latin1);
            if (!Reply(reader, '2')) return false;
            if (!Command(stream, reader, "HELO crash.example", '2')) return false;
            if (!Command(stream, reader, $"MAIL FROM:<{from}>", '2')) return false;
            foreach (var r in to)
                if (!Command(stream, reader, $"RCPT TO:<{r}>", '2')) return false;
            if (!Command(stream, reader, "DATA", '3')) return false;
            var body = new StringBuilder();
            foreach (var line in message.Replace("\r\n", "\n").TrimEnd('\n').Split('\n'))
                body.Append(line.StartsWith('.') ? "." : "").Append(line).Append("\r\n");
            body.Append(".\r\n");
            var bytes = Encoding.Latin1.GetBytes(body.ToString());
            stream.Write(bytes);
            if (!Reply(reader, '2')) return false;
            Command(stream, reader, "QUIT", '2');
            return true;
        }
        catch (IOException) { return false; }
        catch (SocketException) { return false; }
    }

    private static bool Command(NetworkStream stream, StreamReader reader, string line, char expect)
    {
        stream.Write(Encoding.Latin1.GetBytes(line + "\r\n"));
        return Reply(reader, expect);
    }

    /// <summary>Reads a whole (possibly multi-line) reply; true when its code starts with <paramref name="expect"/>.</summary>
    private static bool Reply(StreamReader reader, char expect)
    {
        while (true)
        {
            var line = reader.ReadLine();
            if (line == null || line.Length < 3) return false;
            if (line.Length == 3 || line[3] != '-') return line[0] == expect;
        }
    }
}
