using System.Net;
using System.Net.NetworkInformation;
using System.Text;

namespace Jsmail.Common.Remote;

/// <summary>
/// From the host argument to the addresses to try (§6.4): smtproutes, IP
/// literals, the relay's addresses or the MX list, and the "best MX is me"
/// check. Failures are reported in qmail's words and give null.
/// </summary>
public sealed class Destination(RemoteSettings settings)
{
    public (List<MailHost> Hosts, int Port, Route? Route)? Resolve(byte[] hostBytes, Report report)
    {
        var host = Encoding.Latin1.GetString(hostBytes);
        var route = Routes.Find(settings.SmtpRoutes, hostBytes, settings.Compat);
        var port = route?.Port ?? Routes.SmtpPort;
        var target = route?.Relay ?? host;
        // An [IPv6:...] route is the administrator's explicit choice; AAAA lookups are a switchable feature.
        var ipv6Literal = !settings.Compat;
        var aaaa = (settings.Features & RemoteFeatures.Aaaa) != 0;

        List<MailHost> hosts;
        LookupFailure failure;
        if (MailHosts.Literal(target, ipv6Literal) is { } literal)
            (hosts, failure) = ([new MailHost(literal, 0, target)], LookupFailure.None);
        else
        {
            var dns = new MailHosts(MailHosts.Client(settings.DnsServers, dnssec: Dane.Enabled(settings)), aaaa);
            (hosts, failure) = route != null ? dns.Addresses(target) : dns.Exchangers(target);
        }

        switch (failure)
        {
            case LookupFailure.Soft:
                report.Add('Z', "Sorry, I couldn't find any host by that name. (#4.1.2)\n");
                return null;
            case LookupFailure.Hard:
                report.Add('D', $"Sorry, I couldn't find any host named {Report.Printable(Encoding.Latin1.GetBytes(target))}. (#5.1.2)\n");
                return null;
            case LookupFailure.NullMx when !settings.Compat:
                report.Add('D', $"Sorry, {Report.Printable(hostBytes)} does not accept mail (null MX). (#5.1.10)\n");
                return null;
        }
        if (hosts.Count == 0)
        {
            report.Add('D', "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n");
            return null;
        }
        if (route == null)
        {
            var prefme = hosts.Where(h => IsMe(h.Address)).Select(h => h.Preference).DefaultIfEmpty(int.MaxValue).Min();
            hosts = hosts.Where(h => h.Preference < prefme).ToList();
            if (hosts.Count == 0)
            {
                report.Add('D', "Sorry. Although I'm listed as a best-preference MX or A for that host,\nit isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n");
                return null;
            }
        }
        return (hosts, port, route);
    }

    private static HashSet<IPAddress>? s_local;

    /// <summary>0.0.0.0 and every address of this machine's interfaces (qmail's ipme).</summary>
    private static bool IsMe(IPAddress ip)
    {
        s_local ??= LocalAddresses();
        return s_local.Contains(ip);
    }

    private static HashSet<IPAddress> LocalAddresses()
    {
        var set = new HashSet<IPAddress> { IPAddress.Any, IPAddress.IPv6Any };
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            foreach (var a in nic.GetIPProperties().UnicastAddresses)
                set.Add(a.Address);
        return set;
    }
}
