using Jsmail.Common.Control;
using Jsmail.Common.Message;

namespace Jsmail.Common.Dkim;

/// <summary>
/// DKIM signing as jsmail-dkimsign does it (docs/jsmail-dkimsign.md): the
/// key for the From field's domain, else for the envelope sender's, from
/// control/dkimkeys; the DKIM-Signature field to put in front of the message,
/// which itself stays unchanged. jsmail-dkimsign runs it as a program,
/// jsmail-rspawn's pool in-process.
/// </summary>
public sealed class DkimSigner
{
    private readonly string _home;
    private readonly KeyTable _keys;

    private DkimSigner(string home, KeyTable keys) { _home = home; _keys = keys; }

    /// <summary>A signer with the home's control/dkimkeys, read now.</summary>
    /// <exception cref="DkimSignerException">the control file cannot be read</exception>
    public static DkimSigner ForHome(string home)
    {
        try { return new DkimSigner(home, new KeyTable(new ControlReader(home).ReadList("dkimkeys"))); }
        catch (ControlReadException e) { throw new DkimSignerException($"unable to read control files: {e.Message}"); }
    }

    /// <summary>The field for <paramref name="message"/>, or null when no key applies.</summary>
    /// <exception cref="DkimSignerException">a key or the message cannot be read</exception>
    public byte[]? Field(SpooledMessage message, byte[]? envelopeSender) =>
        Field(message, envelopeSender, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <param name="unixTime">the signature's t=</param>
    internal byte[]? Field(SpooledMessage message, byte[]? envelopeSender, long unixTime)
    {
        var header = message.ReadHeader();
        var fields = HeaderField.ReadAll(header, HeaderLineEnds.LfCrlfOrCr);
        if (KeyChoice.For(_keys, fields, envelopeSender) is not { } key) return null;

        using var rsa = SigningKeyFile.Load(_home, key.KeyPath);
        var bodyHash = message.HashBody(header.Length);
        var h = SignedHeaders.Choose(fields);
        return SignatureField.Build(key, unixTime, h, bodyHash,
            SignedHeaders.Canonical(fields, h), SigningKeyFile.Signer(rsa), SignatureField.LineEndOf(header));
    }
}

/// <summary>
/// A failure that makes the delivery wait. Its message is exactly what
/// jsmail-dkimsign says after <c>jsmail-dkimsign: </c> on fd 2, and what
/// jsmail-remote's report quotes from there.
/// </summary>
public sealed class DkimSignerException(string message) : Exception(message);
