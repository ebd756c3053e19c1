using System.Text;

namespace Jsmail.TestSupport;

/// <summary>
/// DKIM keys made with openssl, and python3-dkim (a real verifier, from
/// /usr/bin/python3) checking signatures with the public key handed to it
/// in place of DNS, or looked up in a test DNS server. Messages are verified as they travel: line ends as
/// CRLF, the way jsmail-remote sends them.
/// </summary>
public static class DkimVerifier
{
    private const string Script = """
        import sys, re, dkim
        msg = open(sys.argv[1], "rb").read()
        if sys.argv[2] == "wire":
            msg = re.sub(rb"\r\n|\r|\n", b"\r\n", msg)
        records = {}
        server = None
        for spec in sys.argv[3:]:
            name, pub = spec.split("=", 1)
            if name == "@dns":
                server = int(pub)
            else:
                records[name] = pub
        if server is not None:
            # python3-dkim's own DNS lookup (dnspython), its resolver pointed at the test's DNS server
            import dns.resolver, dkim.dnsplug
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = ["127.0.0.1"]
            resolver.port = server
            dns.resolver.default_resolver = resolver
        asked = []
        def dns(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            asked.append(name.rstrip("."))
            if server is not None:
                return dkim.dnsplug.get_txt(name.encode(), timeout)
            name = name.rstrip(".")
            if name not in records:
                return None
            return ("v=DKIM1; k=rsa; p=" + records[name]).encode()
        try:
            ok = dkim.verify(msg, dnsfunc=dns)
        except Exception as e:
            print("error", type(e).__name__, e)
            sys.exit(0)
        print("pass" if ok else "fail", " ".join(asked))
        """;

    /// <summary>Makes an RSA key with openssl (PKCS#8 PEM, or PKCS#1 with <paramref name="traditional"/>); returns the public key as a DNS p= value.</summary>
    public static string MakeKey(string privatePath, int bits = 2048, bool traditional = false)
    {
        var gen = Run.Shell(traditional
                ? "openssl genrsa -traditional -out \"$1\" \"$2\""
                : "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:\"$2\" -out \"$1\"",
            args: [privatePath, bits.ToString()]);
        if (gen.ExitCode != 0) throw new InvalidOperationException("openssl: " + gen.Err + gen.Out);
        var pub = Run.Shell("openssl pkey -in \"$1\" -pubout -outform DER | base64 -w0", args: [privatePath]);
        if (pub.ExitCode != 0 || pub.Out.Length == 0) throw new InvalidOperationException("openssl: " + pub.Err);
        return pub.Out.Trim();
    }

    /// <summary>
    /// As <see cref="Verify"/>, the keys looked up by python3-dkim through
    /// dnspython in the DNS server on 127.0.0.1:<paramref name="dnsPort"/>
    /// (a <see cref="DnsServer"/> publishing them, <see cref="TxtRecord"/>).
    /// </summary>
    public static string VerifyThroughDns(byte[] message, int dnsPort) =>
        Verify(message, new Dictionary<string, string> { ["@dns"] = dnsPort.ToString() });

    /// <summary>A dnsmasq txt-record line publishing a DKIM key: its text in strings of at most 255 bytes, as DNS requires.</summary>
    public static string TxtRecord(string name, string publicKey)
    {
        var text = "v=DKIM1; k=rsa; p=" + publicKey;
        var parts = Enumerable.Range(0, (text.Length + 254) / 255).Select(i => "\"" + text.Substring(i * 255, Math.Min(255, text.Length - i * 255)) + "\"");
        return $"txt-record={name}," + string.Join(",", parts);
    }

    /// <summary>
    /// "pass &lt;names asked&gt;", "fail ..." or "error ..." from dkim.verify;
    /// <paramref name="records"/> maps "selector._domainkey.domain" to a p= value.
    /// </summary>
    public static string Verify(byte[] message, IDictionary<string, string> records, bool asOnTheWire = true)
    {
        using var dir = new TempDir("jsmail-dkimverify");
        File.WriteAllText(dir["verify.py"], Script);
        File.WriteAllBytes(dir["msg"], message);
        var r = Run.Process("/usr/bin/python3",
            new[] { dir["verify.py"], dir["msg"], asOnTheWire ? "wire" : "raw" }.Concat(records.Select(kv => $"{kv.Key}={kv.Value}")),
            timeoutMs: 60_000);
        if (r.ExitCode != 0) throw new InvalidOperationException("python3-dkim: " + r.Err);
        return Encoding.UTF8.GetString(r.Stdout).Trim();
    }
}
