using Jsmail.Common.Control;
using Jsmail.Common.Dkim;
using Jsmail.Common.Os;

namespace Jsmail.DkimSign;

/// <summary>
/// jsmail-dkimsign, a send-time processor for jsmail-remote: reads a message
/// on fd 0 and writes it on fd 1 with a DKIM-Signature field (RFC 6376,
/// rsa-sha256, relaxed/relaxed) put in front, the message itself unchanged.
/// With no key for its domain the message passes unchanged. Exit 0: the
/// message was written; 111: temporary trouble (a key or control file that
/// cannot be read, an I/O error), explained on fd 2. The signing is
/// Jsmail.Common.Dkim's, which jsmail-rspawn's pool also runs in-process.
/// </summary>
public static class Program
{
    public const int Ok = 0, Temporary = 111;

    public static int Main()
    {
        try { return Run(); }
        catch (DkimSignerException e) { return Fail(e.Message); }
    }

    private static int Run()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException e) { return Fail(e.Message); }
        var signer = DkimSigner.ForHome(home);

        using var message = SpooledMessage.Open(0);
        var field = signer.Field(message, Libc.Getenv("SENDER"));
        return message.CopyTo(1, field ?? []) ? Ok : Fail("unable to write output");
    }

    private static int Fail(string why)
    {
        Libc.WriteAll(2, System.Text.Encoding.UTF8.GetBytes($"jsmail-dkimsign: {why}\n"));
        return Temporary;
    }
}
