using System.Text;

namespace Jsmail.Common.Smtp.Policy;

/// <summary>
/// What the session knows when it asks, in Postfix's terms (plugin-protocols.md
/// §3.2). Absent values are empty, absent numbers 0, as Postfix sends them.
/// </summary>
public sealed record PolicyFacts(string ProtocolState)
{
    public string ProtocolName { get; init; } = "SMTP";
    public byte[] HeloName { get; init; } = [];
    public byte[] Sender { get; init; } = [];
    public byte[] Recipient { get; init; } = [];
    public int RecipientCount { get; init; }
    public byte[] ClientAddress { get; init; } = [];
    /// <summary>tcpserver's TCPREMOTEHOST; Postfix's "unknown" when there is none.</summary>
    public byte[] ClientName { get; init; } = "unknown"u8.ToArray();
    public string Instance { get; init; } = "";
    public string SaslMethod { get; init; } = "";
    public byte[] SaslUsername { get; init; } = [];
    public ulong Size { get; init; }
    public string EncryptionProtocol { get; init; } = "";
    public string EncryptionCipher { get; init; } = "";
}

/// <summary>The request: <c>name=value</c> lines, then an empty line.</summary>
public static class PolicyRequest
{
    public static byte[] Build(PolicyFacts f)
    {
        var o = new List<byte>(512);
        Add(o, "request", "smtpd_access_policy"u8);
        Add(o, "protocol_state", Encoding.ASCII.GetBytes(f.ProtocolState));
        Add(o, "protocol_name", Encoding.ASCII.GetBytes(f.ProtocolName));
        Add(o, "helo_name", f.HeloName);
        Add(o, "queue_id", []);
        Add(o, "sender", f.Sender);
        Add(o, "recipient", f.Recipient);
        Add(o, "recipient_count", Number((ulong)f.RecipientCount));
        Add(o, "client_address", f.ClientAddress);
        Add(o, "client_name", f.ClientName);
        Add(o, "reverse_client_name", f.ClientName);
        Add(o, "instance", Encoding.ASCII.GetBytes(f.Instance));
        Add(o, "sasl_method", Encoding.ASCII.GetBytes(f.SaslMethod));
        Add(o, "sasl_username", f.SaslUsername);
        Add(o, "sasl_sender", []);
        Add(o, "size", Number(f.Size));
        Add(o, "ccert_subject", []);
        Add(o, "ccert_issuer", []);
        Add(o, "ccert_fingerprint", []);
        Add(o, "encryption_protocol", Encoding.ASCII.GetBytes(f.EncryptionProtocol));
        Add(o, "encryption_cipher", Encoding.ASCII.GetBytes(f.EncryptionCipher));
        Add(o, "encryption_keysize", "0"u8);
        Add(o, "etrn_domain", []);
        Add(o, "stress", []);
        o.Add((byte)'\n');
        return [.. o];
    }

    private static byte[] Number(ulong n) => Encoding.ASCII.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A value holds no LF (it would end the attribute) and no NUL: such bytes become '?'.</summary>
    private static void Add(List<byte> o, string name, ReadOnlySpan<byte> value)
    {
        foreach (var c in name) o.Add((byte)c);
        o.Add((byte)'=');
        foreach (var b in value) o.Add(b is (byte)'\n' or (byte)'\r' or 0 ? (byte)'?' : b);
        o.Add((byte)'\n');
    }
}
