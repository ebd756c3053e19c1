using Jsmail.Common.Envelope;

namespace Jsmail.Common.Queue;

/// <summary>
/// A message's envelope-extension parameters re-indexed for one channel: the R
/// indexes count that channel file's T records instead of the envelope's, so a
/// recipient's parameters are found by its record's position. jsmail-todo
/// builds the remote channel's for <see cref="RemoteParameters"/>.
/// </summary>
public static class ChannelParameters
{
    /// <summary>
    /// The parameters for one channel: every MAIL parameter, and for record k the
    /// RCPT parameters of the envelope recipient <paramref name="envelopeIndexes"/>[k].
    /// Null when nothing would be in it.
    /// </summary>
    public static EnvelopeExtension? ForChannel(EnvelopeExtension message, IReadOnlyList<int> envelopeIndexes)
    {
        var ext = new EnvelopeExtension();
        ext.Sender.AddRange(message.Sender);
        for (var k = 0; k < envelopeIndexes.Count; k++)
        {
            var p = message.ParametersOf(envelopeIndexes[k]);
            if (p.Count > 0) ext.ForRecipient(k).AddRange(p);
        }
        return ext.IsEmpty ? null : ext;
    }
}
