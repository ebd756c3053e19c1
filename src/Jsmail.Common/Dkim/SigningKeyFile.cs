using System.Security.Cryptography;
using System.Text;

namespace Jsmail.Common.Dkim;

/// <summary>The private key of a control/dkimkeys line: a PEM RSA key (PKCS#1 or PKCS#8), a path relative to the qmail home or absolute.</summary>
internal static class SigningKeyFile
{
    /// <summary>RFC 8301: signers use keys of at least 1024 bits.</summary>
    public const int MinimumBits = 1024;

    public static RSA Load(string home, byte[] keyPath)
    {
        var path = Path.Combine(home, Encoding.UTF8.GetString(keyPath));
        string pem;
        try { pem = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DkimSignerException($"unable to read key {path}: {e.Message}");
        }
        var rsa = RSA.Create();
        try { rsa.ImportFromPem(pem); }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new DkimSignerException($"key {path} is not an unencrypted PEM RSA private key");
        }
        if (rsa.KeySize is var bits && bits < MinimumBits)
        {
            rsa.Dispose();
            throw new DkimSignerException($"key {path} has {bits} bits, fewer than {MinimumBits}");
        }
        return rsa;
    }

    public static Func<byte[], byte[]> Signer(RSA rsa) =>
        data => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
}
