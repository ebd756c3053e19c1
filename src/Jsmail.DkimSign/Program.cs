using Jsmail.Common.Control;
using Jsmail.Common.Message;
using Jsmail.Common.Os;

namespace Jsmail.DkimSign;

/// <summary>
/// jsmail-dkimsign, a send-time processor for jsmail-remote: reads a message
/// on fd 0 and writes it on fd 1 with a DKIM-Signature field (RFC 6376,
/// rsa-sha256, relaxed/relaxed) put in front, the message itself unchanged.
/// With no key for its domain the message passes unchanged. Exit 0: the
/// message was written; 111: temporary trouble (a key or control file that
/// cannot be read, an I/O error), explained on fd 2.
/// </summary>
public static class Program
{
    public const int Ok = 0, Temporary = 111;

    public static int Main()
    {
        try { return Run(); }
        catch (SignerException e) { return Fail(e.Message); }
        catch (ControlReadException e) { return Fail($"unable to read control files: {e.Message}"); }
    }

    private static int Run()
    {
        string home;
        try { home = QmailHome.Current; }
        catch (InvalidOperationException e) { return Fail(e.Message); }
        var keys = new KeyTable(new ControlReader(home).ReadList("dkimkeys"));

        using var message = SpooledMessage.Open();
        var header = message.ReadHeader();
        var fields = HeaderField.ReadAll(header, HeaderLineEnds.LfCrlfOrCr);
        var key = KeyChoice.For(keys, fields, Libc.Getenv("SENDER"));
        if (key == null) return message.CopyTo(1, prefix: []) ? Ok : Fail("unable to write output");

        using var rsa = SigningKeyFile.Load(home, key.KeyPath);
        var bodyHash = message.HashBody(header.Length);
        var h = SignedHeaders.Choose(fields);
        var field = SignatureField.Build(key, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), h, bodyHash,
            SignedHeaders.Canonical(fields, h), SigningKeyFile.Signer(rsa), SignatureField.LineEndOf(header));
        return message.CopyTo(1, field) ? Ok : Fail("unable to write output");
    }

    private static int Fail(string why)
    {
        Libc.WriteAll(2, System.Text.Encoding.UTF8.GetBytes($"jsmail-dkimsign: {why}\n"));
        return Temporary;
    }
}

/// <summary>A failure that makes the delivery wait: the text goes to fd 2 and into jsmail-remote's report.</summary>
internal sealed class SignerException(string message) : Exception(message);
