using Jsmail.Fuzz.Harnesses;

namespace Jsmail.Fuzz;

/// <summary>
/// Every harness by the name fuzz/run.sh and fuzz/corpus/&lt;name&gt;/ use. A
/// harness returns normally for any input its parser handles as documented
/// (including the exceptions it documents) and throws anything else.
/// </summary>
public static class Harness
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new SortedDictionary<string, Action<byte[]>>
    {
        ["smtp-command"] = SmtpCommandHarness.Run,
        ["smtp-data"] = SmtpDataHarness.Run,
        ["envelope"] = EnvelopeHarness.Run,
        ["envelope-ext"] = EnvelopeExtensionHarness.Run,
        ["cdb"] = CdbHarness.Run,
        ["control"] = ControlHarness.Run,
        ["spawn"] = SpawnHarness.Run,
        ["smtp-reply"] = SmtpReplyHarness.Run,
        ["dkim"] = DkimHarness.Run,
        ["tcprules"] = TcpRulesHarness.Run,
        ["milter"] = MilterHarness.Run,
        ["policy"] = PolicyHarness.Run,
        ["inject"] = InjectHarness.Run,
    };
}
