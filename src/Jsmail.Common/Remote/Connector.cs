using System.Net;
using System.Text;

namespace Jsmail.Common.Remote;

/// <summary>
/// qmail-remote's connect (§6.5): each candidate in MX order, skipping those
/// the tcpto table marks down, from control/outgoingip's address; the first
/// connect wins. The connection carries the TLS and AUTH rules for its peer.
/// </summary>
public static class Connector
{
    public const string TcptoFile = "queue/lock/tcpto";

    /// <summary>The connection and the peer's address as reports print it; (null, "") when no candidate answered.</summary>
    public static (SmtpConnection?, string) Connect(List<MailHost> candidates, int port, RemoteSettings settings,
        Func<MailHost, PeerSecurity> security, string tcptoFile = TcptoFile)
    {
        var table = Tcpto.Load(tcptoFile);
        var pid = Jsmail.Common.Os.Libc.Getpid();
        foreach (var candidate in candidates)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (Tcpto.IsDown(table, candidate.Address, now, pid)) continue;
            var fd = SmtpConnection.Connect(candidate.Address, port, settings.OutgoingIpFor(candidate.Address), settings.TimeoutConnect, out var timedOut);
            Tcpto.Update(tcptoFile, candidate.Address, timedOut && fd < 0, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            if (fd >= 0)
                return (new SmtpConnection(fd, settings.TimeoutRemote) { Security = security(candidate) }, Format(candidate.Address));
        }
        return (null, "");
    }

    private static string Format(IPAddress ip) => ip.ToString();

    /// <summary>
    /// The candidates after the one at <paramref name="ip"/> (as <see cref="Connect"/> named it):
    /// where a message that one peer could not take goes next (RFC 8689 §4.2.1: each MX host in turn).
    /// </summary>
    public static List<MailHost> After(List<MailHost> candidates, string ip)
    {
        var at = candidates.FindIndex(c => Format(c.Address) == ip);
        return at < 0 ? [] : candidates[(at + 1)..];
    }

    /// <summary>
    /// TLS by the destination domain (tlsdestinations, or its MTA-STS policy:
    /// enforce verifies the exchanger's name against the system's roots, testing
    /// only watches), as the message changes it (<see cref="MessageTlsDemand.Apply"/>:
    /// REQUIRETLS, or TLS-Required: No, which RFC 8689 §4.2.2 lets set MTA-STS aside too);
    /// AUTH by the smtproutes relay (remoteauth). A candidate with TLSA records
    /// (<paramref name="dane"/>, which <see cref="Dane.Apply"/> found only where the
    /// rule lets DANE decide) is under DANE instead, MTA-STS or not (RFC 8461 §2):
    /// usable records judge its certificate alone; published but unusable ones
    /// still make TLS mandatory (RFC 7672 §2.2). With <paramref name="reporting"/>,
    /// the session's TLS result is recorded under the policy it was under.
    /// </summary>
    public static PeerSecurity SecurityFor(RemoteSettings settings, byte[] host, Route? route, MailHost candidate, MessageTls demand,
        MtaStsDecision? sts = null, DaneDecision? dane = null, TlsSessionLog? reporting = null)
    {
        if (settings.Compat) return PeerSecurity.None;
        var auth = route == null ? null : Credentials.For(settings.RemoteAuth, Encoding.Latin1.GetBytes(route.Relay));
        var tlsa = dane?.For(candidate.Name);
        var tls = tlsa switch
        {
            { Count: > 0 } => new TlsPolicy(TlsMode.Dane, null) { RequiredBy = $"DANE (the TLSA records of {dane!.Owner(candidate.Name)})" },
            { Count: 0 } => new TlsPolicy(TlsMode.Require, null) { RequiredBy = $"DANE (the unusable TLSA records of {dane!.Owner(candidate.Name)})" },
            null when sts is { Policy.Mode: MtaStsMode.Enforce } => new TlsPolicy(TlsMode.Verify, null) { RequiredBy = $"the MTA-STS policy of {sts.Domain}" },
            _ => TlsPolicy.For(settings.TlsDestinations, host),
        };
        return new PeerSecurity(MessageTlsDemand.Apply(tls, demand), candidate.Name, Encoding.Latin1.GetString(host), auth)
        {
            RequireTls = demand == MessageTls.RequireTls,
            Observe = tlsa == null && sts is { Policy.Mode: MtaStsMode.Testing }
                ? what => sts.Log($"MTA-STS testing for {sts.Domain}: {what} ({candidate.Name}); enforce would not deliver there")
                : null,
            Tlsa = tlsa ?? [],
            DaneNames = tlsa is { Count: > 0 } ? dane!.NamesFor(candidate.Name) : [],
            DaneObserve = tlsa is { Count: > 0 } ? (result, what) => dane!.Log($"DANE for {candidate.Name}: {Dane.Word(result)}: {what}") : null,
            Reporting = reporting?.Session(candidate, sts, tlsa),
        };
    }
}
