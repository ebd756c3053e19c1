using System.Text;
using Jsmail.Common.Envelope;
using Jsmail.Common.Queue;
using Jsmail.TestSupport;

namespace Jsmail.Common.Tests.Queue;

/// <summary>
/// The caller's side of qmail-queue (§1.8): QMAILQUEUE, the home as working
/// directory, message on fd 0, envelope on fd 1, the error pipe on fd 4 and fd 6.
/// The stand-in queue programs are shell scripts that record what they got.
/// </summary>
public class QueueClientTests : IDisposable
{
    private readonly TempDir _home = new("jsmail-qc");
    public void Dispose() => _home.Dispose();

    private string Filter(string body)
    {
        var path = _home["filter"];
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
        return path;
    }

    private QueueResult Queue(string? program, string message = "Subject: x\n\nbody\n")
    {
        using var client = QueueClient.Open(_home.Path, program);
        client.Write(Encoding.ASCII.GetBytes(message));
        var ext = new EnvelopeExtension();
        ext.Sender.Add(EsmtpParameter.Of("SIZE", "17"));
        return client.Close(new QueueEnvelope("a@x"u8.ToArray(), ["b@y"u8.ToArray()], ext));
    }

    [Fact]
    public void Gives_the_message_on_fd0_and_the_envelope_on_fd1_in_the_home()
    {
        var r = Queue(Filter("cat > got.msg; cat <&1 > got.env; pwd > got.pwd; exit 0"));
        r.Success.Should().BeTrue(r.ToString());
        File.ReadAllText(_home["got.msg"]).Should().Be("Subject: x\n\nbody\n");
        File.ReadAllText(_home["got.env"], Encoding.Latin1).Should().Be("Fa@x\0Tb@y\0\0X1\0MSIZE=17\0\0");
        File.ReadAllText(_home["got.pwd"]).Trim().Should().Be(_home.Path);
    }

    [Theory]
    [InlineData("6", "Dno thanks")]
    [InlineData("4", "Dno thanks")]
    public void Custom_error_text_comes_back_from_fd_4_or_fd_6(string fd, string text)
    {
        var r = Queue(Filter($"cat >/dev/null; printf 'Dno thanks' >&{fd}; exit 82"));
        r.ToString().Should().Be(text);
        r.Permanent.Should().BeTrue();
    }

    [Fact]
    public void Only_255_bytes_of_the_error_text_are_kept()
    {
        var r = Queue(Filter("cat >/dev/null; printf 'Z%0400d' 0 >&6; exit 82"));
        r.Text.Length.Should().Be(255);
        r.Permanent.Should().BeFalse();
    }

    [Theory]
    [InlineData(0, "")]
    [InlineData(31, "Dmail server permanently rejected message (#5.3.0)")]
    [InlineData(52, "Zqq timeout (#4.3.0)")]
    [InlineData(53, "Zqq write error or disk full (#4.3.0)")]
    public void Exit_codes_become_qmails_texts(int code, string text) =>
        Queue(Filter($"cat >/dev/null; exit {code}")).ToString().Should().Be(text);

    [Fact]
    public void A_program_that_dies_by_a_signal_crashed() =>
        Queue(Filter("kill -9 $$")).ToString().Should().Be("Zqq crashed (#4.3.0)");

    // A program that exits without reading its input breaks our pipes (EPIPE) or not, by chance
    // for a small message and surely for one larger than a pipe holds: its exit status decides.
    [Theory]
    [InlineData(0, "")]
    [InlineData(31, "Dmail server permanently rejected message (#5.3.0)")]
    [InlineData(53, "Zqq write error or disk full (#4.3.0)")]
    public void A_program_that_reads_nothing_is_judged_by_its_exit_for_a_large_message(int code, string text) =>
        Queue(Filter($"exit {code}"), new string('x', 4 << 20)).ToString().Should().Be(text);

    [Fact]
    public void A_program_that_reads_nothing_and_exits_0_succeeds_whoever_wins_the_race()
    {
        var filter = Filter("exit 0");
        for (var run = 0; run < 50; run++) Queue(filter).ToString().Should().Be("", $"run {run}");
    }

    [Fact]
    public void Missing_program_cannot_be_executed() =>
        Queue(_home["nothing-here"]).ToString().Should().Be("Zunable to exec qq (#4.3.0)");

    [Fact]
    public void Default_program_is_bin_qmail_queue_of_the_home()
    {
        Directory.CreateDirectory(_home["bin"]);
        File.WriteAllText(_home["bin/qmail-queue"], "#!/bin/bash\ncat >/dev/null; touch ran; exit 0\n");
        File.SetUnixFileMode(_home["bin/qmail-queue"], (UnixFileMode)0x1ED);
        Queue(null).Success.Should().BeTrue();
        File.Exists(_home["ran"]).Should().BeTrue();
    }

    [Fact]
    public void Missing_home_is_trouble_in_home_directory()
    {
        using var client = QueueClient.Open(_home["no-such-home"], "/bin/true");
        client.Close(new QueueEnvelope([], [])).ToString().Should().Be("Zqq trouble in home directory (#4.3.0)");
    }
}
