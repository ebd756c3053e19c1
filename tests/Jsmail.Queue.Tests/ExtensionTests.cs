using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.TestSupport;
using static Jsmail.Queue.Tests.QueueRunner;

namespace Jsmail.Queue.Tests;

/// <summary>The envelope extension through jsmail-queue into queue/ext (docs/envelope.md).</summary>
public class ExtensionTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    public void Dispose() => _home.Dispose();

    private static readonly byte[] Message = B("Subject: x\n\nbody\n");

    [Fact]
    public void Extension_is_stored_beside_the_plain_queue_files()
    {
        var ext = new EnvelopeExtension();
        ext.Sender.Add(EsmtpParameter.Of("SIZE", "17"));
        ext.Sender.Add(EsmtpParameter.Of("RET", "HDRS"));
        ext.ForRecipient(1).Add(EsmtpParameter.Of("NOTIFY", "SUCCESS,FAILURE"));
        var envelope = new QueueEnvelope(B("a@x"), [B("b@y"), B("c@z")], ext).Encode();

        Run(_home, Message, envelope).ExitCode.Should().Be(0);

        var id = ulong.Parse(_home.Entries("todo").Single());
        Encoding.Latin1.GetString(_home.ReadQueueFile($"todo/{id}")).Should()
            .MatchRegex("^u\\d+\0p\\d+\0Fa@x\0Tb@y\0Tc@z\0$", "todo stays exactly what qmail-send reads");
        _home.ReadQueueFile($"ext/{id % 23}/{id}").Should().Equal(EnvelopeExtensionCodec.Encode(ext));
    }

    [Fact]
    public void Stale_ext_file_of_a_reused_inode_is_replaced()
    {
        Run(_home, Message, B("Fa\0Tb\0\0")).ExitCode.Should().Be(0);
        var id = ulong.Parse(_home.Entries("todo").Single());
        // Pretend the message is gone and its inode comes back with an extension.
        File.Delete(_home.Queue($"todo/{id}"));
        File.Delete(_home.Queue($"intd/{id}"));
        File.Delete(_home.Queue($"mess/{id % 23}/{id}"));
        for (var i = 0UL; i < 23; i++) File.WriteAllText(_home.Queue($"ext/{i}/{id}"), "stale");
        Run(_home, Message, B("Fa\0Tb\0\0X1\0MSIZE=5\0\0")).ExitCode.Should().Be(0);
        var newId = ulong.Parse(_home.Entries("todo").Single());
        Encoding.Latin1.GetString(_home.ReadQueueFile($"ext/{newId % 23}/{newId}")).Should().Be("X1\0MSIZE=5\0\0");
    }

    public static TheoryData<string, string> BadExtensions => new()
    {
        { "CR in a value", "X1\0MENVID=a\rb\0\0" },
        { "LF in a value", "X1\0R0\0PORCPT=rfc822;a\nb\0\0" },
        { "NUL splitting a value", "X1\0MENVID=a\0b\0\0" },
        { "value of 1003 bytes", "X1\0MENVID=" + new string('v', 1003) + "\0\0" },
        { "recipient index beyond the envelope", "X1\0R1\0PNOTIFY=NEVER\0\0" },
        { "unknown version", "X9\0\0" },
    };

    [Theory, MemberData(nameof(BadExtensions))]
    public void Bad_extension_is_an_envelope_format_error_and_queues_nothing(string name, string block)
    {
        Run(_home, Message, B("Fa\0Tb\0\0" + block)).ExitCode.Should().Be(91, name);
        _home.Entries("todo").Should().BeEmpty();
        _home.Entries("ext").Should().BeEmpty();
    }

    [Fact]
    public void Truncated_extension_is_a_read_error_and_cleans_up()
    {
        Run(_home, Message, B("Fa\0Tb\0\0X1\0MSIZE=5\0")).ExitCode.Should().Be(54);
        _home.Entries("todo").Should().BeEmpty();
        _home.Entries("mess").Should().BeEmpty();
        _home.Entries("intd").Should().BeEmpty();
        _home.Entries("ext").Should().BeEmpty();
    }

    [Fact]
    public void Trailing_bytes_that_are_no_extension_are_ignored_as_qmail_does()
    {
        Run(_home, Message, B("Fa\0Tb\0\0garbage\0\0")).ExitCode.Should().Be(0);
        _home.Entries("todo").Should().ContainSingle();
        _home.Entries("ext").Should().BeEmpty();
    }

    [Fact]
    public void Queue_without_ext_directory_keeps_the_message_and_drops_the_extension()
    {
        Directory.Delete(_home.Queue("ext"), recursive: true);
        Run(_home, Message, B("Fa\0Tb\0\0X1\0MSIZE=5\0\0")).ExitCode.Should().Be(0);
        _home.Entries("todo").Should().ContainSingle();
    }

    [Fact]
    public void Caller_that_never_closes_the_envelope_is_not_waited_for_forever()
    {
        // The envelope comes through a pipe whose writer stays open after the final NUL.
        var r = TestSupport.Run.Shell("""
            d=$(mktemp -d); mkfifo "$d/env"
            ( printf 'Fa\0Tb\0\0'; sleep 30 ) > "$d/env" &
            writer=$!
            start=$(date +%s)
            "$1" </dev/null 1<"$d/env"; rc=$?
            end=$(date +%s)
            kill $writer 2>/dev/null; rm -rf "$d"
            echo "$rc $((end - start))"
            """, args: _home.Bin("jsmail-queue"), timeoutMs: 40_000);
        var parts = r.Out.Trim().Split(' ');
        parts[0].Should().Be("0");
        int.Parse(parts[1]).Should().BeLessThan(25, "the wait for an extension block is bounded");
        _home.Entries("todo").Should().ContainSingle();
    }
}
