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
        config["transcript"] = _dir["transcript"];
        config["clients"] = _dir["clients"];
        config.TryAdd("timeout", 30);
        File.WriteAllText(_dir["config.json"], config.ToJsonString());
        _process = Run.Start("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "peers", "smtp_stub.py"), _dir["config.json"]]);
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

    /// <summary>The address each connection came from (waits for the peer to finish).</summary>
    public string[] Clients
    {
        get
        {
            _process.WaitForExit(35_000);
            return File.Exists(_dir["clients"]) ? File.ReadAllLines(_dir["clients"]) : [];
        }
    }

    /// <summary>"C: command" and "S: first reply line" in the order they happened, and "TLS" once encrypted (waits for the peer to finish).</summary>
    public string[] Transcript
    {
        get
        {
            _process.WaitForExit(35_000);
            return File.Exists(_dir["transcript"]) ? File.ReadAllLines(_dir["transcript"], Encoding.Latin1) : [];
        }
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
        _dir.Dispose();
    }
}

/// <summary>A test CA and server certificates made with openssl.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly TempDir _dir = new("jsmail-certs");
    public string CaFile => _dir["ca.pem"];
    public string OtherCaFile => _dir["other-ca.pem"];

    public TestCertificates()
    {
        var r = Run.Shell("""
            set -e
            cd "$1"
            for ca in ca other-ca; do
              openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jsmail test $ca" \
                -keyout $ca.key -out $ca.pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
            done
            make() { # name SAN
              openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout $1.key -out $1.csr 2>/dev/null
              printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$2" > $1.ext
              openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $1.ext -out $1.pem 2>/dev/null
            }
            make loopback IP:127.0.0.1
            make elsewhere DNS:elsewhere.test
            """, args: _dir.Path);
        if (r.ExitCode != 0) throw new InvalidOperationException("openssl: " + r.Err);
    }

    /// <summary>[cert, key] of a server certificate: "loopback" names 127.0.0.1, "elsewhere" names elsewhere.test.</summary>
    public JsonArray Server(string name) => new(_dir[name + ".pem"], _dir[name + ".key"]);

    public void Dispose() => _dir.Dispose();
}

/// <summary>aiosmtpd (peers/aiosmtpd_peer.py) on loopback: each message it accepts, as received.</summary>
public sealed class AiosmtpdPeer : IDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir = new("jsmail-aiosmtpd");
    public int Port { get; }

    public AiosmtpdPeer(JsonObject config)
    {
        config["portfile"] = _dir["port"];
        config["out"] = _dir["out"];
        config.TryAdd("timeout", 30);
        File.WriteAllText(_dir["config.json"], config.ToJsonString());
        _process = Run.Start("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "peers", "aiosmtpd_peer.py"), _dir["config.json"]]);
        for (var i = 0; i < 400 && !File.Exists(_dir["port"]) && !_process.HasExited; i++) Thread.Sleep(25);
        if (!File.Exists(_dir["port"])) throw new InvalidOperationException("aiosmtpd did not start");
        Port = int.Parse(File.ReadAllText(_dir["port"]));
    }

    /// <summary>The messages received so far (one JSON object each).</summary>
    public List<JsonObject> Messages =>
        File.Exists(_dir["out"])
            ? File.ReadAllLines(_dir["out"]).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
            : [];

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.WaitForExit(5_000);
        _process.Dispose();
        _dir.Dispose();
    }
}
