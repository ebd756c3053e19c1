using System.Diagnostics;

namespace Jsmail.TestSupport;

/// <summary>A real DNS server (dnsmasq) on loopback serving the given configuration lines.</summary>
public sealed class DnsServer : IDisposable
{
    private Process _process = null!;
    private readonly TempDir _dir = new("jsmail-dns");
    public int Port { get; }

    public DnsServer(params string[] lines)
    {
        // dnsmasq listens on UDP and TCP: a port free for both when chosen can be
        // taken by a parallel test before dnsmasq binds it, so a few tries (bounded)
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            File.WriteAllText(_dir["dnsmasq.conf"], string.Join("\n",
                new[] { $"port={Port}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts", "no-poll",
                    "local=/test/", "keep-in-foreground", "user=root", $"pid-file={_dir["pid"]}" }.Concat(lines)) + "\n");
            _process = Run.Start("/usr/sbin/dnsmasq", ["-C", _dir["dnsmasq.conf"]], redirect: Redirect.Error);
            for (var i = 0; i < 200 && !File.Exists(_dir["pid"]) && !_process.HasExited; i++) Thread.Sleep(25);
            if (!_process.HasExited) return;
            var error = _process.StandardError.ReadToEnd();
            _process.Dispose();
            if (attempt == 5 || !error.Contains("Address already in use")) throw new InvalidOperationException("dnsmasq: " + error);
        }
    }

    /// <summary>A loopback port free for both UDP and TCP at once.</summary>
    private static int FreePort()
    {
        for (var i = 0; ; i++)
        {
            using var udp = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            var port = ((System.Net.IPEndPoint)udp.Client.LocalEndPoint!).Port;
            try
            {
                using var tcp = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                tcp.Start();
                tcp.Stop();
                return port;
            }
            catch (System.Net.Sockets.SocketException) when (i < 20) { }
        }
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}
