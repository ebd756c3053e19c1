using System.Diagnostics;

namespace Jsmail.TestSupport;

/// <summary>A real DNS server (dnsmasq) on loopback serving the given configuration lines.</summary>
public sealed class DnsServer : IDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir = new("jsmail-dns");
    public int Port { get; }

    public DnsServer(params string[] lines)
    {
        Port = FreeUdpPort();
        File.WriteAllText(_dir["dnsmasq.conf"], string.Join("\n",
            new[] { $"port={Port}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts", "no-poll",
                "local=/test/", "keep-in-foreground", "user=root", $"pid-file={_dir["pid"]}" }.Concat(lines)) + "\n");
        _process = Run.Start("/usr/sbin/dnsmasq", ["-C", _dir["dnsmasq.conf"]], redirect: Redirect.Error);
        for (var i = 0; i < 200 && !File.Exists(_dir["pid"]); i++) Thread.Sleep(25);
        if (_process.HasExited) throw new InvalidOperationException("dnsmasq: " + _process.StandardError.ReadToEnd());
    }

    private static int FreeUdpPort()
    {
        using var s = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)s.Client.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}
