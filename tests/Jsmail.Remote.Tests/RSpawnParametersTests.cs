using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>
/// jsmail-rspawn giving the remote program its delivery's ESMTP parameters
/// from queue/rparam/ (docs/jsmail-send.md), with a QMAILREMOTE that records
/// its environment.
/// </summary>
public class RSpawnParametersTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-rspawn-param");
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private const string Block = "X1\0MRET=HDRS\0MENVID=QQ1\0R1\0PNOTIFY=SUCCESS,FAILURE\0PORCPT=rfc822;b@x.test\0\0";

    private string Message(string id)
    {
        File.WriteAllText(_home.Queue($"mess/{ulong.Parse(id) % 23}/{id}"), "Subject: x\n\nbody\n");
        return $"{ulong.Parse(id) % 23}/{id}";
    }

    /// <summary>The I record of the message's mess file as jsmail-todo writes it.</summary>
    private string Identity(string mess)
    {
        var f = new FileInfo(_home.Queue("mess/" + mess));
        return $"I{f.Length},{new DateTimeOffset(f.LastWriteTimeUtc).ToUnixTimeSeconds()}\0";
    }

    private void Parameters(string mess, string content) =>
        File.WriteAllBytes(_home.Queue("rparam/" + mess), Encoding.Latin1.GetBytes(content));

    private static byte[] Command(byte slot, string mess, string recipient) =>
        [slot, .. Encoding.Latin1.GetBytes($"{mess}\0s@x\0{recipient}\0")];

    /// <summary>
    /// Runs jsmail-rspawn on the commands, one delivery at a time; returns, per
    /// recipient, the JSMAIL_ variables its remote program saw ("" for none).
    /// </summary>
    private Dictionary<string, string> Deliver(byte[][] commands, Dictionary<string, string?>? env = null)
    {
        var seen = _dir["seen"];
        File.Delete(seen);
        File.WriteAllText(_dir["remote"],
            "#!/bin/bash\n" +
            // one write per line: deliveries run side by side
            "line=\"$3:$(env | grep '^JSMAIL_.*PARAMETERS' | sort | tr '\\n' '|')\"\n" +
            $"printf '%s\\n' \"$line\" >> {seen}\n" +
            "printf 'r\\0K192.0.2.7 accepted message.\\n\\0'\n");
        File.SetUnixFileMode(_dir["remote"], (UnixFileMode)0x1ED);
        File.WriteAllBytes(_dir["commands"], commands.SelectMany(c => c).ToArray());
        env ??= new();
        env["PATH"] = _home.Path + "/bin:/usr/bin:/bin";
        env["QMAILREMOTE"] = _dir["remote"];
        var r = Run.Process("/bin/bash", ["-c", "exec \"$0\" <\"$1\"", _home.Bin("jsmail-rspawn"), _dir["commands"]], env: env);
        r.ExitCode.Should().Be(0, r.Err);
        Encoding.Latin1.GetString(r.Stdout).Split("K192.0.2.7").Length.Should().Be(commands.Length + 1, "every delivery succeeds");
        return File.ReadAllLines(seen).Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1]);
    }

    [Fact]
    public void Each_recipient_gets_the_mail_parameters_and_its_own()
    {
        var mess = Message("100");
        Parameters(mess, Identity(mess) + "Ta@x.test\0Tb@x.test\0" + Block);
        var seen = Deliver([Command(0, mess, "a@x.test"), Command(1, mess, "b@x.test")]);
        seen["a@x.test"].Should().Be("JSMAIL_MAIL_PARAMETERS=RET=HDRS ENVID=QQ1|");
        seen["b@x.test"].Should().Be("JSMAIL_MAIL_PARAMETERS=RET=HDRS ENVID=QQ1|JSMAIL_RCPT_PARAMETERS_0=NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.test|");
    }

    [Fact]
    public void Duplicate_addresses_get_the_first_ones_parameters()
    {
        var mess = Message("101");
        Parameters(mess, Identity(mess) + "Td@x.test\0Td@x.test\0X1\0R0\0PNOTIFY=NEVER\0R1\0PNOTIFY=SUCCESS\0\0");
        Deliver([Command(0, mess, "d@x.test")])["d@x.test"].Should().Be("JSMAIL_RCPT_PARAMETERS_0=NOTIFY=NEVER|");
    }

    public static TheoryData<string, string> Unusable => new()
    {
        { "", "an empty file" },
        { "I1,1\0Ta@x.test\0Tb@x.test\0" + Block, "a file left behind for another message under the same inode" },
        { "IDENTITY" + "Ta@x.test\0Tb@x.test\0X1\0MRET=HDRS", "a file cut short" },
        { "garbage\n", "garbage" },
        { "IDENTITY" + "Tother@x.test\0" + "X1\0MRET=HDRS\0\0", "the recipient is not in it" },
    };

    [Theory, MemberData(nameof(Unusable))]
    public void An_unusable_file_means_no_parameters_and_the_delivery_goes_on(string content, string why)
    {
        var mess = Message("102");
        Parameters(mess, content.Replace("IDENTITY", Identity(mess)));
        Deliver([Command(0, mess, "b@x.test")])["b@x.test"].Should().Be("", why);
    }

    [Fact]
    public void An_unreadable_file_means_no_parameters()
    {
        var mess = Message("103");
        Directory.CreateDirectory(_home.Queue("rparam/" + mess)); // open succeeds, reading fails
        Deliver([Command(0, mess, "b@x.test")])["b@x.test"].Should().Be("");
        Directory.Delete(_home.Queue("rparam/" + mess));
        Deliver([Command(0, mess, "b@x.test")])["b@x.test"].Should().Be("", "no file at all");
    }

    [Fact]
    public void Inherited_variables_never_reach_a_delivery_but_pass_unchanged_under_qmail_compatibility()
    {
        var mess = Message("104");
        Parameters(mess, Identity(mess) + "Ta@x.test\0Tb@x.test\0" + Block);
        var inherited = new Dictionary<string, string?>
        {
            ["JSMAIL_MAIL_PARAMETERS"] = "RET=FULL", ["JSMAIL_RCPT_PARAMETERS_0"] = "NOTIFY=NEVER",
        };
        var seen = Deliver([Command(0, mess, "a@x.test"), Command(1, mess, "b@x.test")], new(inherited));
        seen["a@x.test"].Should().Be("JSMAIL_MAIL_PARAMETERS=RET=HDRS ENVID=QQ1|");
        seen["b@x.test"].Should().Be("JSMAIL_MAIL_PARAMETERS=RET=HDRS ENVID=QQ1|JSMAIL_RCPT_PARAMETERS_0=NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.test|");

        var compat = new Dictionary<string, string?>(inherited) { ["JSMAIL_COMPAT"] = "qmail" };
        Deliver([Command(0, mess, "a@x.test")], compat)["a@x.test"]
            .Should().Be("JSMAIL_MAIL_PARAMETERS=RET=FULL|JSMAIL_RCPT_PARAMETERS_0=NOTIFY=NEVER|", "qmail-rspawn passes its environment on as it is");

        Deliver([Command(0, mess, "b@x.test")], new() { ["JSMAIL_COMPAT"] = "qmail" })["b@x.test"]
            .Should().Be("", "under qmail compatibility rparam/ is not read");
    }
}
