using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Common.Remote;

/// <summary>
/// Send-time processing: the programs named in control/remoteprocessors, one
/// after the other, rewrite the message before it is sent (a DKIM signer is
/// the shipped one). Each reads the message on fd 0 and writes the new one on
/// fd 1; its output goes to a memfd, never into this process's memory, and the
/// last output replaces fd 0, so the dialogue sends it as it would the queue
/// file. Any failure is a temporary failure of the delivery: the queued
/// message is untouched and tried again later.
/// </summary>
public static class SendTimeProcessing
{
    public const string ProcessorsFile = "remoteprocessors";
    public const string TimeoutFile = "timeoutremoteprocessor";
    public const int DefaultTimeoutSeconds = 60;

    /// <summary>
    /// Runs the configured processors over fd 0 and leaves their result on
    /// fd 0. False when the delivery must stop (the Z report is added).
    /// Nothing happens with JSMAIL_COMPAT=qmail or without processors.
    /// </summary>
    public static bool Apply(ControlReader control, bool compat, byte[] host, byte[] sender,
        IReadOnlyList<byte[]> recipients, Report report)
    {
        if (compat) return true;
        List<byte[]> commands;
        int timeout;
        try
        {
            commands = control.ReadList(ProcessorsFile);
            if (commands.Count == 0) return true;
            timeout = (int)Math.Clamp(control.ReadInt(TimeoutFile, DefaultTimeoutSeconds), 1, int.MaxValue / 1000);
        }
        catch (ControlReadException)
        {
            report.Add('Z', "Unable to read control files. (#4.3.0)\n");
            return false;
        }

        Libc.Setenv("SENDER", sender);
        Libc.Setenv("RECIPIENTS", ProcessorText.RecipientList(recipients));
        Libc.Setenv("HOST", host);

        var input = 0;
        foreach (var command in commands)
        {
            var outcome = ProcessorRun.Run(command, input, TimeSpan.FromSeconds(timeout), out var output);
            if (input != 0) Libc.Close(input);
            if (outcome.Kind != ProcessorFailure.None)
            {
                if (output >= 0) Libc.Close(output);
                report.Add('Z', ProcessorText.Failure(command, outcome, timeout));
                return false;
            }
            input = output;
        }
        if (input != 0)
        {
            Libc.Lseek(input, 0, 0);
            var moved = Libc.Dup2(input, 0);
            Libc.Close(input);
            if (moved != 0)
            {
                report.Add('Z', "System resources temporarily unavailable. (#4.3.0)\n");
                return false;
            }
        }
        return true;
    }
}
