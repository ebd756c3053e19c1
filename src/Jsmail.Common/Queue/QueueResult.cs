using System.Text;

namespace Jsmail.Common.Queue;

/// <summary>
/// The outcome of handing a message to the queue program, in qmail's form: an
/// empty text for success, else a text whose first byte is D (permanent) or
/// Z (temporary), e.g. "Zqq write error or disk full (#4.3.0)". qmail-smtpd,
/// qmail-inject, qmail-local and qmail-send print these texts (§1.8).
/// </summary>
public readonly record struct QueueResult(byte[] Text)
{
    public bool Success => Text.Length == 0;
    public bool Permanent => Text.Length > 0 && Text[0] == (byte)'D';

    /// <summary>The text without its class letter.</summary>
    public ReadOnlySpan<byte> Message => Text.Length > 0 ? Text.AsSpan(1) : default;

    public override string ToString() => Encoding.UTF8.GetString(Text);

    public static readonly QueueResult Ok = new([]);
    public static QueueResult Of(string text) => new(Encoding.ASCII.GetBytes(text));

    public const string WaitpidSurprise = "Zqq waitpid surprise (#4.3.0)";
    public const string Crashed = "Zqq crashed (#4.3.0)";
    public const string ReadError = "Zqq read error (#4.3.0)";

    /// <summary>
    /// Maps the queue program's exit status to qmail's text. errorPipe holds what
    /// the program wrote on the error pipe (at most 255 bytes are kept).
    /// </summary>
    public static QueueResult FromExit(int exitCode, bool callerWriteError, ReadOnlySpan<byte> errorPipe)
    {
        var text = exitCode switch
        {
            0 => callerWriteError ? ReadError : "",
            54 => ReadError,
            11 or 115 => "Denvelope address too long for qq (#5.1.3)",
            31 => "Dmail server permanently rejected message (#5.3.0)",
            51 => "Zqq out of memory (#4.3.0)",
            52 => "Zqq timeout (#4.3.0)",
            53 => "Zqq write error or disk full (#4.3.0)",
            55 => "Zqq unable to read configuration (#4.3.0)",
            56 => "Zqq trouble making network connection (#4.3.0)",
            61 => "Zqq trouble in home directory (#4.3.0)",
            62 or 63 or 64 or 65 or 66 => "Zqq trouble creating files in queue (#4.3.0)",
            71 => "Zmail server temporarily rejected message (#4.3.0)",
            72 => "Zconnection to mail server timed out (#4.4.1)",
            73 => "Zconnection to mail server rejected (#4.4.1)",
            74 => "Zcommunication with mail server failed (#4.4.2)",
            81 or 91 => "Zqq internal bug (#4.3.0)",
            120 => "Zunable to exec qq (#4.3.0)",
            82 when errorPipe.Length > 2 => null,
            >= 11 and <= 40 => "Dqq permanent problem (#5.3.0)",
            _ => "Zqq temporary problem (#4.3.0)",
        };
        return text == null ? new QueueResult(errorPipe.ToArray()) : Of(text);
    }

    public static QueueResult FromSignal() => Of(Crashed);

    /// <summary>The queue program could not be started: qmail tells a missing home from a failed exec.</summary>
    public static QueueResult CouldNotStart(string home) =>
        Of(Directory.Exists(home) ? "Zunable to exec qq (#4.3.0)" : "Zqq trouble in home directory (#4.3.0)");
}
