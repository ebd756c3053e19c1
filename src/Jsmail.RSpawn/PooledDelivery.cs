using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Remote;

namespace Jsmail.RSpawn;

/// <summary>
/// One delivery of the pooled mode, as jsmail-remote makes it (same control
/// files, MX order, tcpto, smtproutes, outgoingip, TLS rules, timeouts and
/// report texts), on a pooled session: a reused one first, and when that
/// turns out stale (<see cref="TransactionEnd.Stale"/>) or has too few
/// transactions left under the peer's LIMITS MAILMAX for this delivery, a fresh one.
/// With <c>signers</c> (control/remoteprocessors, every line the shipped
/// signer) the message is signed in-process where jsmail-remote runs its processors.
/// Writes qmail-remote's output to <c>report</c> and closes it and <c>message</c>.
/// </summary>
internal sealed class PooledDelivery(SessionPool pool, string home, byte[] host, byte[] sender, IReadOnlyList<byte[]> recipients,
    DeliveryParameters parameters, IReadOnlyList<byte[]> signers, int message, int report)
{
    private int _signed = -1;

    /// <summary>
    /// The delivery threw before its report had the message's outcome: it is
    /// reported as a jsmail-remote that died of a signal would be ("qmail-remote crashed").
    /// </summary>
    public bool Crashed { get; private set; }

    public void Run()
    {
        var output = new Report();
        try { Deliver(output); }
        catch (OutOfMemoryException) { output.Add('Z', "Out of memory. (#4.3.0)\n"); }
        catch (Exception e)
        {
            // Never the end of jsmail-rspawn: with it would go the reports of every delivery in
            // flight, whose messages the peers may already have (sent again: duplicates). Seen out
            // of descriptors: the process aborted (SIGABRT) without a word on stderr.
            Log($"warning: delivery failed: {e.GetType().Name}: {e.Message}");
            if (!output.Records.Any(r => r.Letter is 'K' or 'Z' or 'D')) Crashed = true;
        }
        finally
        {
            Libc.WriteAll(report, output.Bytes);
            if (_signed >= 0 && _signed != message) Libc.Close(_signed);
            Libc.Close(message);
            Libc.Close(report);
        }
    }

    private void Deliver(Report output)
    {
        RemoteSettings settings;
        try { settings = RemoteSettings.Read(new ControlReader(home)); }
        catch (Exception e) when (e is IOException or ControlMissingException)
        {
            output.Add('Z', "Unable to read control files. (#4.3.0)\n");
            return;
        }
        if (new Destination(settings).Resolve(host, output) is not { } hosts) return;
        var reporting = TlsSessionLog.For(settings, home, host, hosts.Route, Log);
        if (MtaSts.Apply(settings, home, host, hosts.Route, hosts.Hosts, output, Log, reporting) is not { } sts) return;
        // where jsmail-remote runs send-time processing: after MTA-STS, before the message's TLS demand and DANE
        var sent = message;
        if (signers.Count > 0 && (sent = _signed = PooledSigning.Apply(home, signers, sender, message, output)) < 0) return;
        var source = new MessageSource(sent);
        var demand = MessageTlsDemand.Of(settings, parameters, sender, source);
        if (Dane.Apply(settings, host, hosts.Port, sts.Hosts, demand, output, Log, reporting) is not { } dane) return;
        var key = Key(settings, dane.Hosts, hosts.Port, hosts.Route, demand) + "|" + sts.Decision?.PoolKey + "|" + dane.Decision?.PoolKey;
        var candidates = dane.Hosts;

        // Each stale or full session is given up; a fresh one is neither, so this ends.
        while (true)
        {
            var session = pool.Take(key);
            if (session != null && !session.Dialogue.HasRoomFor(recipients.Count))
            {
                // Its LIMITS MAILMAX would defer some recipients that a fresh session can take.
                pool.Give(key, session, false);
                continue;
            }
            if (session == null)
            {
                var (connection, ip) = Connector.Connect(candidates, hosts.Port, settings,
                    candidate => Connector.SecurityFor(settings, host, hosts.Route, candidate, demand, sts.Decision, dane.Decision, reporting), "../lock/tcpto");
                if (connection == null)
                {
                    pool.Give(key, null, false);
                    output.Add('Z', "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n");
                    return;
                }
                var dialogue = new Dialogue(connection, ip, output, settings.Features);
                if (!dialogue.Open(settings.HeloHost))
                {
                    connection.Dispose(); // Open has sent QUIT where qmail-remote would
                    pool.Give(key, null, false);
                    // RFC 8689 §4.2.1: a host that cannot meet REQUIRETLS is passed over for the next; the last one's report stands.
                    if (!dialogue.RequireTlsUnmet || Connector.After(candidates, ip) is not { Count: > 0 } rest) return;
                    output.Clear();
                    candidates = rest;
                    continue;
                }
                session = new PooledSession(connection, dialogue);
            }
            var end = session.Dialogue.Transact(output, sender, recipients, source, parameters, keepOpen: true);
            pool.Give(key, session, end == TransactionEnd.Reusable);
            if (end != TransactionEnd.Stale) return;
        }
    }

    /// <summary>A line for the log: jsmail-rspawn's stderr, jsmail-send's log.</summary>
    private static void Log(string line) => Libc.WriteAll(2, System.Text.Encoding.UTF8.GetBytes("jsmail-rspawn: " + line + "\n"));

    /// <summary>
    /// One destination: the same hosts in the same order, port, TLS rule (as
    /// the message changes it: REQUIRETLS, TLS-Required) and relay (credentials);
    /// a verifying rule also the domain, whose name a certificate may have to carry;
    /// and the same features (control/remotedisable), since EHLO and STARTTLS happened when the session opened.
    /// A REQUIRETLS message only ever shares a session opened for REQUIRETLS (verified, and the peer offered it).
    /// </summary>
    private string Key(RemoteSettings settings, List<MailHost> hosts, int port, Route? route, MessageTls demand)
    {
        var policy = settings.Compat ? new TlsPolicy(TlsMode.Off, null) : MessageTlsDemand.Apply(TlsPolicy.For(settings.TlsDestinations, host), demand);
        return string.Join(",", hosts.Select(h => h.Address + "/" + h.Name)) + "|" + port.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + "|" + policy.Mode + "|" + policy.CaFile + "|" + route?.Relay + "|" + (policy.Mode == TlsMode.Verify ? Report.Printable(host) : "")
            + "|" + (int)settings.Features + (demand == MessageTls.RequireTls ? "|REQUIRETLS" : "");
    }
}
