using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>A scripted SMTP peer (peers/smtp_stub.py) on a loopback address, recording what it receives.</summary>
public sealed class StubPeer : IDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir = new("jsmail-stub");
    public int Port { get; }
    public string Ip { get; }

    public StubPeer(string ip = "127.0.0.1", int port = 0, JsonObject? config = null)
    {
        Ip = ip;
        config ??= new JsonObject();
        config["listen"] = new JsonArray(ip, port);
        config["portfile"] = _dir["port"];
        config["record"] = _dir["record"];
        config.TryAdd("timeout", 30);
        File.WriteAllText(_dir["config.json"], config.ToJsonString());
        var psi = new ProcessStartInfo("/usr/bin/python3") { UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "peers", "smtp_stub.py"));
        psi.ArgumentList.Add(_dir["config.json"]);
        _process = Process.Start(psi)!;
        for (var i = 0; i < 200 && !File.Exists(_dir["port"]); i++) Thread.Sleep(25);
        if (!File.Exists(_dir["port"])) throw new InvalidOperationException("the stub SMTP peer did not start");
        Port = int.Parse(File.ReadAllText(_dir["port"]));
    }

    /// <summary>Everything the peer received (waits for the peer to finish).</summary>
    public string Received
    {
        get
        {
            _process.WaitForExit(35_000);
            return File.Exists(_dir["record"]) ? File.ReadAllText(_dir["record"], Encoding.Latin1) : "";
        }
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}

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
        var psi = new ProcessStartInfo("/usr/sbin/dnsmasq") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-C");
        psi.ArgumentList.Add(_dir["dnsmasq.conf"]);
        _process = Process.Start(psi)!;
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
