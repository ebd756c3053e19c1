using System.Buffers.Text;

namespace Jsmail.Common.Smtp;

/// <summary>What went wrong with a piece of an AUTH exchange (RFC 4954).</summary>
public enum SmtpAuthFault
{
    None,
    /// <summary>Not base64 as RFC 4648 §4 writes it: 501 5.5.2.</summary>
    BadBase64,
    /// <summary>The client sent "*": 501, the exchange is over.</summary>
    Cancelled,
    /// <summary>Decoded, but not credentials a checkpassword program may see: 535 5.7.8.</summary>
    BadCredentials,
}

/// <summary>
/// The pure parts of AUTH PLAIN (RFC 4616) and LOGIN: strict base64, the
/// PLAIN message split, and the rules that keep a checkpassword program's
/// <c>user\0pass\0timestamp\0</c> framing intact (interfaces §12).
/// </summary>
public static class SmtpAuthCodec
{
    /// <summary>checkpassword reads at most 512 bytes from fd 3.</summary>
    public const int MaxCheckpasswordInput = 512;

    /// <summary>
    /// A client response line (without CRLF): "*" cancels, "=" is an empty
    /// initial response (RFC 4954 §4), anything else must be canonical base64.
    /// </summary>
    public static SmtpAuthFault DecodeResponse(ReadOnlySpan<byte> line, bool initial, out byte[] decoded)
    {
        decoded = [];
        if (line.SequenceEqual("*"u8)) return SmtpAuthFault.Cancelled;
        if (initial && line.SequenceEqual("="u8)) return SmtpAuthFault.None;
        return DecodeBase64(line, out decoded) ? SmtpAuthFault.None : SmtpAuthFault.BadBase64;
    }

    /// <summary>Base64 with padding and nothing else: no spaces, no line breaks, no stray '='.</summary>
    public static bool DecodeBase64(ReadOnlySpan<byte> text, out byte[] decoded)
    {
        decoded = [];
        if (text.Length % 4 != 0) return false;
        var pad = text.EndsWith("=="u8) ? 2 : text.EndsWith("="u8) ? 1 : 0;
        for (var i = 0; i < text.Length - pad; i++)
            if (!IsBase64Letter(text[i])) return false;
        var buffer = new byte[text.Length / 4 * 3];
        if (Base64.DecodeFromUtf8(text, buffer, out var used, out var written) != System.Buffers.OperationStatus.Done
            || used != text.Length)
            return false;
        decoded = buffer[..written];
        return true;
    }

    private static bool IsBase64Letter(byte b) =>
        b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'+' or (byte)'/';

    public static byte[] EncodeBase64(ReadOnlySpan<byte> data)
    {
        var o = new byte[Base64.GetMaxEncodedToUtf8Length(data.Length)];
        Base64.EncodeToUtf8(data, o, out _, out var written);
        return o[..written];
    }

    /// <summary>
    /// RFC 4616: <c>[authzid] NUL authcid NUL passwd</c>. Acting for someone
    /// else is not offered, so an authzid must be empty or the authcid itself.
    /// </summary>
    public static SmtpAuthFault SplitPlain(ReadOnlySpan<byte> message, out byte[] user, out byte[] password)
    {
        user = password = [];
        var first = message.IndexOf((byte)0);
        if (first < 0) return SmtpAuthFault.BadCredentials;
        var rest = message[(first + 1)..];
        var second = rest.IndexOf((byte)0);
        if (second < 0) return SmtpAuthFault.BadCredentials;
        var authzid = message[..first];
        var authcid = rest[..second];
        var passwd = rest[(second + 1)..];
        if (!authzid.IsEmpty && !authzid.SequenceEqual(authcid)) return SmtpAuthFault.BadCredentials;
        user = authcid.ToArray();
        password = passwd.ToArray();
        return SmtpAuthFault.None;
    }

    /// <summary>
    /// Whether these credentials may go to a checkpassword program: a user
    /// name with no NUL, CR or LF (it ends up in its logs), a password with no
    /// NUL (the field separator), and the whole within checkpassword's 512 bytes.
    /// </summary>
    public static bool Acceptable(ReadOnlySpan<byte> user, ReadOnlySpan<byte> password, ReadOnlySpan<byte> timestamp)
    {
        if (user.IsEmpty || user.IndexOfAny((byte)0, (byte)'\r', (byte)'\n') >= 0) return false;
        if (password.IndexOf((byte)0) >= 0 || timestamp.IndexOf((byte)0) >= 0) return false;
        return user.Length + password.Length + timestamp.Length + 3 <= MaxCheckpasswordInput;
    }

    /// <summary>fd 3's bytes for checkpassword: <c>user\0password\0timestamp\0</c>.</summary>
    public static byte[] CheckpasswordInput(ReadOnlySpan<byte> user, ReadOnlySpan<byte> password, ReadOnlySpan<byte> timestamp) =>
        [.. user, 0, .. password, 0, .. timestamp, 0];

    /// <summary>
    /// Takes RFC 4954 §5's <c>AUTH=</c> out of MAIL's parameter text, so the
    /// rest can go to <see cref="EsmtpParameters.ParseMail"/>. The value must be
    /// <c>&lt;&gt;</c> or xtext; given twice is a fault.
    /// </summary>
    public static EsmtpParameterFault TakeMailAuth(ReadOnlySpan<byte> parameters, out byte[] rest, out byte[]? value)
    {
        value = null;
        var kept = new List<byte>(parameters.Length);
        var fault = EsmtpParameterFault.None;
        var i = 0;
        while (i < parameters.Length)
        {
            if (parameters[i] == (byte)' ') { kept.Add((byte)' '); i++; continue; }
            var end = parameters[i..].IndexOf((byte)' ');
            var word = end < 0 ? parameters[i..] : parameters[i..(i + end)];
            i += word.Length;
            if (word.Length >= 5 && Control.AsciiCaseInsensitive.Equals(word[..5], "AUTH="u8))
            {
                var v = word[5..];
                if (value != null) fault = fault == EsmtpParameterFault.None ? EsmtpParameterFault.Duplicate : fault;
                else if (!(v.SequenceEqual("<>"u8) || (v.Length is > 0 and <= 500 && EsmtpParameters.IsXtext(v))))
                    fault = fault == EsmtpParameterFault.None ? EsmtpParameterFault.BadValue : fault;
                value = v.ToArray();
                continue;
            }
            kept.AddRange(word);
        }
        rest = kept.ToArray();
        return fault;
    }
}
