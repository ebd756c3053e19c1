using Jsmail.Common.Cdb;
using Jsmail.Common.Os;

namespace Jsmail.Common.Tcp;

/// <summary>
/// The access rules tcpserver -x follows, read from the cdb that tcprules
/// builds: for a connection, the rule it follows and so whether it is allowed
/// and which variables it sets.
/// </summary>
/// <remarks>
/// A record's data is a list of NUL-terminated items: "D" denies, "+NAME=value"
/// assigns; an allowing rule without assignments has empty data. tcpserver
/// ignores every other item ("+NAME" without "=" included: there is no unset
/// form), and an unterminated last item. Lookups keep no state, so one
/// instance may decide for every connection at once; opening the file again
/// sees a new one (tcpserver opens it at each connection).
/// </remarks>
public sealed class TcpRules : IDisposable
{
    private readonly CdbReader? _cdb;

    private TcpRules(string path, CdbReader? cdb)
    {
        Path = path;
        _cdb = cdb;
    }

    public string Path { get; }

    /// <summary>
    /// Opens the rules in <paramref name="path"/>. A missing file is allowed only
    /// with <paramref name="allowMissing"/> (tcpserver -X), and then every
    /// connection is allowed with nothing set; without it tcpserver drops every
    /// connection while the file is missing.
    /// </summary>
    /// <exception cref="TcpRulesException">missing (not allowed), unreadable, or with a damaged header</exception>
    public static TcpRules Open(string path, bool allowMissing)
    {
        try
        {
            if (CdbReader.TryOpen(path, out var cdb)) return new TcpRules(path, cdb);
        }
        catch (IOException e)
        {
            throw Failure(path, e);
        }
        if (allowMissing) return new TcpRules(path, null);
        throw new TcpRulesException(path, Errno.ENOENT);
    }

    /// <summary>The decision for a connection from <paramref name="remoteIp"/>, spelled as tcpserver spells it.</summary>
    /// <exception cref="TcpRulesException">the file could not be read or is damaged</exception>
    public TcpRuleDecision Decide(System.Net.IPAddress remoteIp, byte[]? remoteHost, byte[]? remoteInfo) =>
        Decide(TcpAddressText.Format(remoteIp), remoteHost, remoteInfo);

    /// <summary>
    /// The decision for a connection from <paramref name="remoteIp"/> (as
    /// <see cref="TcpAddressText"/> spells it), with TCPREMOTEHOST and
    /// TCPREMOTEINFO when known (null: unset; an empty value is set).
    /// </summary>
    /// <exception cref="TcpRulesException">the file could not be read or is damaged</exception>
    public TcpRuleDecision Decide(ReadOnlySpan<byte> remoteIp, byte[]? remoteHost, byte[]? remoteInfo)
    {
        if (_cdb == null) return TcpRuleDecision.NoRule;
        try
        {
            return Decide(key => _cdb.TryFind(key, out var data) ? data : null, remoteIp, remoteHost, remoteInfo);
        }
        catch (IOException e)
        {
            throw Failure(Path, e);
        }
    }

    /// <summary>
    /// The decision over any lookup (key to the data of its first record, or
    /// null), in tcpserver's order: INFO@IP, INFO@=HOST, IP, =HOST, the IP's
    /// prefixes that end in "." or ":" (longest first), =HOST's suffixes that
    /// start with "." (longest first), "=" when the host is known, and "".
    /// </summary>
    public static TcpRuleDecision Decide(Func<byte[], byte[]?> lookup,
        ReadOnlySpan<byte> remoteIp, byte[]? remoteHost, byte[]? remoteInfo)
    {
        byte[]? key;
        byte[]? data;
        if (remoteInfo != null)
        {
            if ((data = lookup(key = [.. remoteInfo, (byte)'@', .. remoteIp])) != null) return Parse(key, data);
            if (remoteHost != null && (data = lookup(key = [.. remoteInfo, (byte)'@', (byte)'=', .. remoteHost])) != null)
                return Parse(key, data);
        }
        if ((data = lookup(key = remoteIp.ToArray())) != null) return Parse(key, data);
        if (remoteHost != null && (data = lookup(key = [(byte)'=', .. remoteHost])) != null) return Parse(key, data);

        for (var length = remoteIp.Length; length > 0; length--)
        {
            if (remoteIp[length - 1] is not ((byte)'.' or (byte)':')) continue;
            if ((data = lookup(key = remoteIp[..length].ToArray())) != null) return Parse(key, data);
        }
        if (remoteHost != null)
        {
            for (var start = 0; start < remoteHost.Length; start++)
            {
                if (remoteHost[start] != (byte)'.') continue;
                if ((data = lookup(key = [(byte)'=', .. remoteHost.AsSpan(start)])) != null) return Parse(key, data);
            }
            if ((data = lookup(key = [(byte)'='])) != null) return Parse(key, data);
        }
        return (data = lookup(key = [])) != null ? Parse(key, data) : TcpRuleDecision.NoRule;
    }

    /// <summary>The decision a rule's data makes (the item format is in the class remarks).</summary>
    public static TcpRuleDecision Parse(byte[] rule, ReadOnlySpan<byte> data)
    {
        var assignments = new List<TcpRuleAssignment>();
        int end;
        while ((end = data.IndexOf((byte)0)) >= 0)
        {
            var item = data[..end];
            data = data[(end + 1)..];
            if (item.IsEmpty) continue;
            // What follows a deny cannot matter; tcprulescheck stops there too.
            if (item[0] == (byte)'D') return new TcpRuleDecision(false, rule, assignments);
            if (item[0] == (byte)'+' && item.IndexOf((byte)'=') is var equals and > 0)
            {
                assignments.Add(new TcpRuleAssignment(item[1..equals].ToArray(), item[(equals + 1)..].ToArray()));
            }
        }
        return new TcpRuleDecision(true, rule, assignments);
    }

    public void Dispose() => _cdb?.Dispose();

    /// <summary>Damage has no errno of its own: tcpserver reports it as a protocol error.</summary>
    private static TcpRulesException Failure(string path, IOException e) =>
        e as TcpRulesException ?? new TcpRulesException(path, ErrorText.ErrnoOf(e) ?? Errno.EPROTO, e);
}
