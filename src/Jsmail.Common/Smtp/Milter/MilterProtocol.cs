namespace Jsmail.Common.Smtp.Milter;

/// <summary>
/// The milter wire vocabulary (protocol version 6, as libmilter's mfdef.h
/// names it): command bytes the MTA sends, reply bytes the filter sends, and
/// the bits negotiated in SMFIC_OPTNEG.
/// </summary>
public static class MilterProtocol
{
    public const uint Version = 6;

    // MTA to filter.
    public const byte Abort = (byte)'A', Body = (byte)'B', Connect = (byte)'C', Macro = (byte)'D', EndOfBody = (byte)'E',
        Helo = (byte)'H', Header = (byte)'L', Mail = (byte)'M', EndOfHeaders = (byte)'N', OptNeg = (byte)'O',
        Quit = (byte)'Q', Rcpt = (byte)'R', Data = (byte)'T', Unknown = (byte)'U';

    // Filter to MTA.
    public const byte AddRcptPar = (byte)'2', AddRcpt = (byte)'+', DelRcpt = (byte)'-', Accept = (byte)'a',
        ReplaceBody = (byte)'b', Continue = (byte)'c', Discard = (byte)'d', ChangeFrom = (byte)'e', ConnFail = (byte)'f',
        AddHeader = (byte)'h', InsertHeader = (byte)'i', ChangeHeader = (byte)'m', Progress = (byte)'p',
        Quarantine = (byte)'q', Reject = (byte)'r', Skip = (byte)'s', Tempfail = (byte)'t', ReplyCode = (byte)'y',
        Shutdown = (byte)'4';

    /// <summary>SMFIF_*: the modifications a filter may ask for at end of message.</summary>
    [Flags]
    public enum Actions : uint
    {
        AddHeaders = 0x1, ChangeBody = 0x2, AddRcpt = 0x4, DelRcpt = 0x8, ChangeHeaders = 0x10, Quarantine = 0x20,
        ChangeFrom = 0x40, AddRcptPar = 0x80, SetSymList = 0x100,
        All = 0x1ff,
    }

    /// <summary>SMFIP_*: stages a filter skips, stages it does not answer, and protocol variants.</summary>
    [Flags]
    public enum Steps : uint
    {
        NoConnect = 0x1, NoHelo = 0x2, NoMail = 0x4, NoRcpt = 0x8, NoBody = 0x10, NoHeaders = 0x20, NoEoh = 0x40,
        NoReplyHeader = 0x80, NoUnknown = 0x100, NoData = 0x200, Skip = 0x400, RcptRejected = 0x800,
        NoReplyConnect = 0x1000, NoReplyHelo = 0x2000, NoReplyMail = 0x4000, NoReplyRcpt = 0x8000,
        NoReplyData = 0x10000, NoReplyUnknown = 0x20000, NoReplyEoh = 0x40000, NoReplyBody = 0x80000,
        HeaderLeadingSpace = 0x100000,
        /// <summary>Everything jsmail can honour (it never sends rejected recipients, so not RcptRejected).</summary>
        Supported = 0x1ff7ff,
    }

    /// <summary>The largest body chunk one SMFIC_BODY may carry.</summary>
    public const int MaxChunk = 65535;

    /// <summary>A reply longer than this is garbage, not a milter's answer (the largest is a replaced body chunk).</summary>
    public const int MaxPacket = 1 << 20;
}
