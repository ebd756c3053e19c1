using System.Net;
using System.Text;
using Jsmail.Common.Tcp;

namespace Jsmail.Common.Smtp.Plugins.Native;

/// <summary>What a call may change besides its reply (ABI version 2), and so which api calls it may make.</summary>
public enum NativeCallKind { Hook, Helo, Verb }

/// <summary>
/// The session facts, restart and EHLO lines a plugin asked for during one
/// call (api set_fact, restart, ehlo_offer). Each value is checked here, as
/// it is given, so the plugin learns at once that it was refused; the
/// session applies them only when the call returned in time and went well.
/// </summary>
public sealed class NativeSessionChanges
{
    public const int MaxValue = 255;

    private readonly Dictionary<NativeAbi.Fact, byte[]?> _facts = new();
    private readonly List<string> _offers = new();
    private bool _restart;

    /// <summary>The facts set, a null value meaning "unset" (unknown address, port or host, not authenticated).</summary>
    public IReadOnlyDictionary<NativeAbi.Fact, byte[]?> Facts { get { lock (this) return new Dictionary<NativeAbi.Fact, byte[]?>(_facts); } }
    public bool Restart { get { lock (this) return _restart; } }
    public IReadOnlyList<string> Offers { get { lock (this) return [.. _offers]; } }

    public void RestartAsked() { lock (this) _restart = true; }

    public bool Offer(byte[] line)
    {
        if (line.Length is 0 or > MaxValue || line.Any(b => b is < 32 or > 126)) return false;
        var text = Encoding.ASCII.GetString(line);
        if (!NativePluginLoader.Keyword(text.Split(' ')[0])) return false;
        lock (this) _offers.Add(text);
        return true;
    }

    /// <summary>Keeps the fact when its value is one (null: unset, for the host name and the authenticated user).</summary>
    public bool Set(NativeAbi.Fact fact, byte[]? value)
    {
        byte[]? accepted;
        switch (fact)
        {
            // null: unknown, as Postfix's XCLIENT ADDR=[UNAVAILABLE] makes it
            case NativeAbi.Fact.RemoteIp: accepted = Address(value); if (accepted == null && value != null) return false; break;
            case NativeAbi.Fact.RemotePort: accepted = Port(value); if (accepted == null && value != null) return false; break;
            case NativeAbi.Fact.Protocol: accepted = Protocol(value); if (accepted == null) return false; break;
            case NativeAbi.Fact.RemoteHost: if (value != null && !HostName(value)) return false; accepted = value; break;
            case NativeAbi.Fact.Helo: if (value == null || !Word(value)) return false; accepted = value; break;
            case NativeAbi.Fact.AuthUser: if (value != null && !Word(value)) return false; accepted = value; break;
            default: return false;
        }
        lock (this) _facts[fact] = accepted;
        return true;
    }

    private static byte[]? Protocol(byte[]? value) =>
        value != null && Encoding.ASCII.GetString(value).ToUpperInvariant() is ("SMTP" or "ESMTP") and var p ? Encoding.ASCII.GetBytes(p) : null;

    /// <summary>An IPv4 address as four decimal numbers, or an IPv6 address; in the form tcpserver gives TCPREMOTEIP.</summary>
    private static byte[]? Address(byte[]? value)
    {
        if (value == null || value.Length is 0 or > 64) return null;
        var text = Encoding.ASCII.GetString(value);
        var v4 = text.Split('.');
        var shaped = text.Contains(':') || (v4.Length == 4 && v4.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit)));
        if (!shaped || !IPAddress.TryParse(text, out var ip) || text.Contains('%')) return null;
        return TcpAddressText.Format(ip);
    }

    private static byte[]? Port(byte[]? value) =>
        value is { Length: > 0 and <= 5 } && value.All(b => char.IsAsciiDigit((char)b)) && int.Parse(Encoding.ASCII.GetString(value)) is > 0 and <= 65535
            ? value : null;

    /// <summary>A host name: letters, digits, '-', '_' and '.', not an address.</summary>
    private static bool HostName(byte[] v) =>
        v.Length is > 0 and <= MaxValue && v.All(b => char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.')
        && !v.All(b => char.IsAsciiDigit((char)b) || b == (byte)'.');

    /// <summary>One word of bytes that cannot break a header, a log line or a reply: no space, no control character.</summary>
    private static bool Word(byte[] v) => v.Length is > 0 and <= MaxValue && v.All(b => b is > 32 and not 127);
}
