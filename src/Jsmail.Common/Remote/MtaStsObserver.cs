using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Jsmail.Common.Remote;

/// <summary>
/// MTA-STS testing mode at the TLS handshake: the certificate is checked as
/// enforce would check it (the system's roots, the MX host's name) and any
/// failure told to the log, but the handshake goes on whatever it shows: the
/// delivery is made as it would be without the policy.
/// </summary>
public static class MtaStsObserver
{
    /// <param name="noted">also told each failure, with the errors (TLS reporting classifies them)</param>
    public static RemoteCertificateValidationCallback Callback(string peerName, Action<string> observe,
        Action<SslPolicyErrors, X509Chain?, string>? noted = null) =>
        (_, _, chain, errors) =>
        {
            if (errors == SslPolicyErrors.None) return true;
            var problem = Problem(errors, chain, peerName);
            noted?.Invoke(errors, chain, problem);
            observe(problem);
            return true;
        };

    /// <summary>What is wrong with a certificate, in the words of jsmail-remote's TLS reports.</summary>
    public static string Problem(SslPolicyErrors errors, X509Chain? chain, string name)
    {
        var what = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) what.Add("no certificate");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) what.Add($"certificate does not name {name}");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
            what.Add("certificate does not verify" + (chain is { ChainStatus.Length: > 0 }
                ? " (" + string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct()) + ")" : ""));
        return string.Join("; ", what);
    }
}
