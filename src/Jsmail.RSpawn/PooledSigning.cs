using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Dkim;
using Jsmail.Common.Os;
using Jsmail.Common.Remote;

namespace Jsmail.RSpawn;

/// <summary>
/// Send-time processing for a pooled delivery whose control/remoteprocessors
/// lines are all the shipped signer (<see cref="ShippedSigner"/>): each line
/// signs in-process, with jsmail-dkimsign's own code (Jsmail.Common.Dkim),
/// what the previous one produced, at the point where jsmail-remote runs its
/// processors. The signed message is a memfd holding the field and the
/// message; the queue file is never written. A failure adds the Z report
/// jsmail-remote would have written for that line exiting 111 with
/// <c>jsmail-dkimsign: &lt;why&gt;</c> on fd 2 (<see cref="ProcessorText.Failure"/>).
/// </summary>
internal static class PooledSigning
{
    private const int Temporary = 111;

    /// <summary>
    /// The descriptor to send from where it stands: <paramref name="message"/>
    /// itself when no key applied, else a memfd the caller closes; -1 when the
    /// delivery stops (the report added).
    /// </summary>
    public static int Apply(string home, IReadOnlyList<byte[]> lines, byte[] sender, int message, Report output)
    {
        int timeout;
        // read as jsmail-remote reads it, so a file it cannot read defers the same way; nothing here runs long enough to need it
        try { timeout = (int)Math.Clamp(new ControlReader(home).ReadInt(SendTimeProcessing.TimeoutFile, SendTimeProcessing.DefaultTimeoutSeconds), 1, int.MaxValue / 1000); }
        catch (ControlReadException)
        {
            output.Add('Z', "Unable to read control files. (#4.3.0)\n");
            return -1;
        }
        var current = message;
        var start = Libc.Lseek(message, 0, Libc.SEEK_CUR);
        foreach (var line in lines)
        {
            var signed = -1;
            var next = start < 0 ? new ProcessorOutcome(ProcessorFailure.Resources) : SignOnce(home, sender, current, start, out signed);
            if (next.Kind != ProcessorFailure.None)
            {
                if (current != message) Libc.Close(current);
                output.Add('Z', ProcessorText.Failure(line, next, timeout));
                return -1;
            }
            if (signed < 0)
            {
                Libc.Lseek(current, start, Libc.SEEK_SET); // unchanged: sent from where it starts
                continue;
            }
            if (current != message) Libc.Close(current);
            current = signed;
            start = 0;
        }
        return current;
    }

    /// <summary>One signer's run: <paramref name="signed"/> a memfd at its start holding field and message, or -1 when no key applied.</summary>
    private static ProcessorOutcome SignOnce(string home, byte[] sender, int fd, long start, out int signed)
    {
        signed = -1;
        var memfd = -1;
        try
        {
            var message = SpooledMessage.At(fd, start);
            var field = DkimSigner.ForHome(home).Field(message, sender);
            if (field == null)
                // the program copies the message unchanged: nothing at all is "no output" to jsmail-remote
                return Libc.Fstat(fd, out var st) == 0 && st.Size - start > 0 ? new(ProcessorFailure.None)
                    : new(ProcessorFailure.NoOutput, 0, []);
            memfd = Libc.MemfdCreate("jsmail-rspawn-signed", Libc.MFD_CLOEXEC);
            if (memfd < 0) return new(ProcessorFailure.Resources); // where jsmail-remote makes its result memfd
            if (!message.CopyTo(memfd, field)) throw new DkimSignerException("unable to write output");
            if (Libc.Lseek(memfd, 0, Libc.SEEK_SET) != 0) return new(ProcessorFailure.Resources);
            signed = memfd;
            memfd = -1;
            return new(ProcessorFailure.None);
        }
        catch (DkimSignerException e)
        {
            return new(ProcessorFailure.Exited, Temporary, Encoding.UTF8.GetBytes($"{ShippedSigner.ProgramName}: {e.Message}\n"));
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            // a key that loaded but cannot sign: the program would die of it; here it would end
            // jsmail-rspawn and every delivery in flight, so it is a deferral like the others
            return new(ProcessorFailure.Exited, Temporary, Encoding.UTF8.GetBytes($"{ShippedSigner.ProgramName}: unable to sign: {e.Message}\n"));
        }
        finally
        {
            if (memfd >= 0) Libc.Close(memfd);
        }
    }
}
