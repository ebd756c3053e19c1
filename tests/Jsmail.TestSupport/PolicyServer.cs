using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Jsmail.TestSupport;

/// <summary>
/// A Postfix policy service scripted by the test, on 127.0.0.1: it reads each
/// request (name=value lines, an empty line), records it, and sends what the
/// script returns for it. The script's answer is the raw reply: normally
/// <c>action=...\n\n</c>; null: never answer (a hung service); empty: close
/// the connection without answering; text not ending in an empty line: send
/// it and close (a service that dies in mid-answer).
/// </summary>
public sealed class ScriptedPolicyServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<IReadOnlyDictionary<string, string>, string?> _script;
    private readonly List<Dictionary<string, string>> _requests = new();
    private int _connections;

    /// <param name="closeAfterEachAnswer">close every connection after one answer, as postgrey's --exim mode does</param>
    public ScriptedPolicyServer(Func<IReadOnlyDictionary<string, string>, string?> script, bool closeAfterEachAnswer = false)
    {
        _script = script;
        CloseAfterEachAnswer = closeAfterEachAnswer;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    /// <summary>A script answering every request with this action (OK, DUNNO, REJECT text, ...).</summary>
    public static string Answer(string action) => "action=" + action + "\n\n";

    public int Port { get; }
    public bool CloseAfterEachAnswer { get; }
    public string Endpoint => $"inet:127.0.0.1:{Port}";
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The requests so far, in the order they arrived.</summary>
    public List<Dictionary<string, string>> Requests
    {
        get { lock (_requests) return _requests.ToList(); }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            Interlocked.Increment(ref _connections);
            _ = ServeAsync(socket);
        }
    }

    /// <summary>One connection, request after request, until the client closes it, the script ends it or the server stops.</summary>
    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        var input = new List<byte>();
        var chunk = new byte[4096];
        try
        {
            while (true)
            {
                int end;
                while ((end = EndOfRequest(input)) < 0)
                {
                    var n = await socket.ReceiveAsync(chunk, SocketFlags.None, _stop.Token);
                    if (n == 0) return;
                    input.AddRange(chunk.AsSpan(0, n));
                }
                var request = Parse(input.GetRange(0, end));
                input.RemoveRange(0, end + 2);
                lock (_requests) _requests.Add(request);
                var reply = _script(request);
                if (reply == null) await Task.Delay(Timeout.Infinite, _stop.Token);
                if (string.IsNullOrEmpty(reply)) return;
                await socket.SendAsync(Encoding.ASCII.GetBytes(reply), SocketFlags.None, _stop.Token);
                if (CloseAfterEachAnswer || !reply.EndsWith("\n\n", StringComparison.Ordinal)) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private static int EndOfRequest(List<byte> input)
    {
        for (var i = 0; i + 1 < input.Count; i++)
            if (input[i] == '\n' && input[i + 1] == '\n') return i;
        return -1;
    }

    private static Dictionary<string, string> Parse(List<byte> request)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var line in Encoding.UTF8.GetString(request.ToArray()).Split('\n'))
        {
            var eq = line.IndexOf('=');
            if (eq > 0) attributes[line[..eq]] = line[(eq + 1)..];
        }
        return attributes;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
