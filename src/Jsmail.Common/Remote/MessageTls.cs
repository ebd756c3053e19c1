using System.Text;
using Jsmail.Common.Message;

namespace Jsmail.Common.Remote;

/// <summary>What a message itself asks of the TLS it travels over (RFC 8689).</summary>
public enum MessageTls
{
    /// <summary>Nothing: control/tlsdestinations decides.</summary>
    Default,
    /// <summary>
    /// REQUIRETLS on its MAIL: verified TLS to a peer that offers REQUIRETLS,
    /// which is given REQUIRETLS again, or the message is returned.
    /// </summary>
    RequireTls,
    /// <summary>
    /// A <c>TLS-Required: No</c> header field: the sender cares more that the
    /// message arrives than that it goes encrypted, so a destination's
    /// require/verify rule is relaxed to opportunistic.
    /// </summary>
    Optional,
}

/// <summary>
/// How the message's wish (<see cref="MessageTls"/>) is found and how it
/// changes a destination's <see cref="TlsPolicy"/>. Used before connecting,
/// by jsmail-remote and by jsmail-rspawn's pool alike.
/// </summary>
public static class MessageTlsDemand
{
    /// <summary>
    /// How much of the message is read looking for <c>TLS-Required</c>: a
    /// header longer than this is not searched further (a bounded read, not the
    /// whole message for one header field).
    /// </summary>
    public const int HeaderLimit = 64 * 1024;

    /// <summary>
    /// REQUIRETLS in the MAIL parameters wins, and then the header field is
    /// ignored (RFC 8689 §4.1). A message with the null return-path (a bounce)
    /// is not held to REQUIRETLS (§4.2.1 asks it only of a non-empty one).
    /// The header is honoured unless control/remotedisable says
    /// <c>TLS-REQUIRED</c>. Nothing at all under JSMAIL_COMPAT=qmail.
    /// </summary>
    public static MessageTls Of(RemoteSettings settings, DeliveryParameters parameters, byte[] sender, MessageSource message)
    {
        if (settings.Compat) return MessageTls.Default;
        if (parameters.Has("REQUIRETLS")) return sender.Length > 0 ? MessageTls.RequireTls : MessageTls.Default;
        if ((settings.Features & RemoteFeatures.TlsRequiredHeader) != 0 && SaysTlsNotRequired(message)) return MessageTls.Optional;
        return MessageTls.Default;
    }

    /// <summary>
    /// The destination's rule as the message changes it. REQUIRETLS is always
    /// Verify, with the CA file the destination's own verify rule names (else
    /// the system's roots), whatever the rule says, <c>off</c> included: the
    /// sender's demand is not the administrator's to waive. A DANE rule stays
    /// (RFC 8689 §4.2.1 counts DANE as verification).
    /// </summary>
    public static TlsPolicy Apply(TlsPolicy configured, MessageTls demand) => demand switch
    {
        MessageTls.RequireTls when configured.Mode == TlsMode.Dane => configured,
        MessageTls.RequireTls => new TlsPolicy(TlsMode.Verify, configured.Mode == TlsMode.Verify ? configured.CaFile : null),
        MessageTls.Optional when configured.Required => TlsPolicy.Opportunistic,
        _ => configured,
    };

    /// <summary>
    /// Whether the header (read from where the message starts, at most
    /// <see cref="HeaderLimit"/> bytes) has a <c>TLS-Required</c> field whose
    /// value is <c>No</c> (RFC 8689 §3; case does not matter). A message on a
    /// pipe cannot be read twice and is never searched.
    /// </summary>
    public static bool SaysTlsNotRequired(MessageSource message)
    {
        var head = new byte[HeaderLimit];
        var n = message.ReadHead(head);
        if (n <= 0) return false;
        foreach (var field in HeaderField.ReadAll(head.AsSpan(0, n), HeaderLineEnds.LfCrlfOrCr))
        {
            if (!Encoding.ASCII.GetString(field.Name).Equals("TLS-Required", StringComparison.OrdinalIgnoreCase)) continue;
            if (Encoding.ASCII.GetString(field.Value()).Trim(' ', '\t').Equals("No", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }
}
