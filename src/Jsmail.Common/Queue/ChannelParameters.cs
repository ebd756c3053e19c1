using Jsmail.Common.Envelope;

namespace Jsmail.Common.Queue;

/// <summary>
/// The envelope-extension parameters that travel with a channel file
/// (docs/jsmail-send.md): <c>local/&lt;s&gt;/&lt;id&gt;.ext</c> and
/// <c>remote/&lt;s&gt;/&lt;id&gt;.ext</c> hold an extension block (docs/envelope.md)
/// whose R indexes count the T/D records of that channel file, so a recipient's
/// parameters are found by its record's position. Written by jsmail-todo next to
/// the channel file, only for messages that have an extension; removed with it.
/// qmail's own programs never open these names.
/// </summary>
public static class ChannelParameters
{
    public const string Suffix = ".ext";

    public static string PathOf(string channelFile) => channelFile + Suffix;

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
