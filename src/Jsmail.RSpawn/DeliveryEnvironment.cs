using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;

namespace Jsmail.RSpawn;

/// <summary>
/// jsmail's addition to qmail-rspawn (docs/jsmail-send.md): the remote program
/// gets the delivery's ESMTP parameters from <c>../rparam/&lt;s&gt;/&lt;id&gt;</c>
/// as <see cref="ParameterWords"/> variables. The spawner protocol stays
/// qmail's; a file that is missing, unreadable, malformed or left behind for
/// an earlier message with the same inode means no parameters, never a failed
/// delivery. Variables of those names inherited by jsmail-rspawn are never
/// passed on, so a delivery's parameters are only ever its own; nor is
/// jsmail-start's <see cref="GroupedDelivery.OfferVariable"/>.
/// </summary>
internal sealed class DeliveryEnvironment
{
    private readonly byte[][] _environment;
    private readonly bool _inheritedStripped;

    public DeliveryEnvironment(byte[][] environment)
    {
        _environment = environment.Where(e => !IsParameterVariable(e)).ToArray();
        _inheritedStripped = _environment.Length != environment.Length;
    }

    /// <summary>The environment for this delivery, or null for jsmail-rspawn's own, unchanged.</summary>
    public IReadOnlyList<byte[]>? For(int messageFd, SpawnCommand command)
    {
        var entries = new List<byte[]>(2);
        if (Read(messageFd, command) is { } parameters)
        {
            // one MAIL for all: every recipient of a message has the same MAIL parameters
            if (parameters.For(command.Recipient) is var (mail, _) &&
                ParameterWords.Entry(ParameterWords.MailVariable, mail) is { } m) entries.Add(m);
            for (var i = 0; i < command.Recipients.Count; i++)
                if (parameters.For(command.Recipients[i]) is var (_, rcpt) &&
                    ParameterWords.Entry(ParameterWords.RcptVariablePrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture), rcpt) is { } r)
                    entries.Add(r);
        }
        if (entries.Count == 0) return _inheritedStripped ? _environment : null;
        return [.. _environment, .. entries];
    }

    private static RemoteParameters? Read(int messageFd, SpawnCommand command)
    {
        using var file = OwnedFd.Open(RemoteParameters.PathFromMess(command.MessageId), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        // no file: no parameters; one that cannot be opened now (out of descriptors) is a
        // temporary refusal, never a delivery that silently drops the message's DSN requests
        if (!file.IsOpen && Libc.Errno != Errno.ENOENT) throw new SpawnException("rparam", Libc.Errno);
        if (!file.IsOpen) return null;
        try
        {
            if (Libc.Fstat(file.Fd, out var st) != 0 || !st.IsRegular || st.Size > EnvelopeExtensionCodec.MaxBlock * 2L) return null;
            var parameters = RemoteParameters.Decode(FdRead.All(file.Fd));
            if (Libc.Fstat(messageFd, out var mess) != 0 || !parameters.Belongs(mess.Size, mess.MTimeSec)) return null;
            return parameters;
        }
        catch (Exception e) when (e is IOException or RemoteParametersException) { return null; }
    }

    /// <summary>The parameter variables, and jsmail-start's offer, which is for the spawner alone.</summary>
    private static bool IsParameterVariable(byte[] entry) =>
        entry.AsSpan().StartsWith(Encoding.ASCII.GetBytes(ParameterWords.MailVariable + "=")) ||
        entry.AsSpan().StartsWith(Encoding.ASCII.GetBytes(GroupedDelivery.OfferVariable + "=")) ||
        entry.AsSpan().StartsWith(Encoding.ASCII.GetBytes(ParameterWords.RcptVariablePrefix));
}
