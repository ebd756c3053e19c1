namespace Jsmail.Common.Smtp.Milter;

/// <summary>
/// Which macros go with which stage: Postfix's default sets (MILTER_README),
/// unless the filter chose its own with SMFIF_SETSYMLIST in its negotiation
/// reply. Names are Sendmail's: one letter bare, longer ones in braces.
/// </summary>
public static class MilterMacros
{
    /// <summary>The SMFIM_* number a filter's symbol list names each stage by.</summary>
    public static int? SymListStage(MilterStage stage) => stage switch
    {
        MilterStage.Connect => 0, MilterStage.Helo => 1, MilterStage.Mail => 2, MilterStage.Rcpt => 3,
        MilterStage.Data => 4, MilterStage.Message => 5,
        _ => null,
    };

    /// <summary>SMFIM_EOH: the end of headers, a stage of its own in the symbol list.</summary>
    public const int EndOfHeadersStage = 6;

    public static readonly string[] Connect =
        ["j", "{daemon_name}", "{daemon_addr}", "v", "_", "{client_addr}", "{client_name}", "{client_port}", "{client_ptr}"];
    public static readonly string[] Helo = ["{tls_version}", "{cipher}", "{cipher_bits}", "{cert_subject}", "{cert_issuer}"];
    public static readonly string[] Mail = ["i", "{auth_type}", "{auth_authen}", "{auth_author}", "{mail_addr}", "{mail_host}", "{mail_mailer}"];
    public static readonly string[] Rcpt = ["i", "{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}"];
    public static readonly string[] QueueId = ["i"];

    /// <summary>The default set of a stage by its SMFIM_* number.</summary>
    public static string[] Defaults(int symListStage) => symListStage switch
    {
        0 => Connect, 1 => Helo, 2 => Mail, 3 => Rcpt,
        _ => QueueId,
    };

    /// <summary>A symbol list's names, each in the form macros are sent in.</summary>
    public static string[] ParseList(ReadOnlySpan<byte> list)
    {
        var words = System.Text.Encoding.ASCII.GetString(list).Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < words.Length; i++)
            if (words[i].Length > 1 && words[i][0] != '{') words[i] = "{" + words[i] + "}";
        return words;
    }

    /// <summary>The SMFIC_MACRO packet for a command: the names in the set that have a value; null when none has.</summary>
    public static MilterPacket? Packet(byte command, string[] names, IReadOnlyDictionary<string, byte[]> values)
    {
        MilterPacketBuilder? b = null;
        foreach (var name in names)
        {
            if (!values.TryGetValue(name, out var value)) continue;
            b ??= new MilterPacketBuilder(MilterProtocol.Macro).Byte(command);
            b.String(name).String(value);
        }
        return b?.Build();
    }
}
