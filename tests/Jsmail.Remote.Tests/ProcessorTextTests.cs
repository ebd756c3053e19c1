using System.Text;

namespace Jsmail.Remote.Tests;

/// <summary>The texts of send-time processing (pure).</summary>
public class ProcessorTextTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    [Theory]
    [InlineData((int)ProcessorFailure.Exited, 100, "", "Send-time processor sign failed (exit code 100). (#4.3.0)\n")]
    [InlineData((int)ProcessorFailure.Exited, 111, "no key\nsecond line\n", "Send-time processor sign failed (exit code 111). (#4.3.0)\nIt said: no key\n")]
    [InlineData((int)ProcessorFailure.Exited, 1, "bad\0nul\r\n", "Send-time processor sign failed (exit code 1). (#4.3.0)\nIt said: bad?nul\n")]
    [InlineData((int)ProcessorFailure.Exited, 1, "  \n", "Send-time processor sign failed (exit code 1). (#4.3.0)\n")]
    [InlineData((int)ProcessorFailure.Signalled, 11, "", "Send-time processor sign crashed (signal 11). (#4.3.0)\n")]
    [InlineData((int)ProcessorFailure.TimedOut, 0, "", "Send-time processor sign timed out after 60 seconds. (#4.3.0)\n")]
    [InlineData((int)ProcessorFailure.NoOutput, 0, "", "Send-time processor sign produced no output. (#4.3.0)\n")]
    [InlineData((int)ProcessorFailure.CannotStart, 2, "", "Unable to run send-time processor sign: file does not exist. (#4.3.0)\n")]
    [InlineData((int)ProcessorFailure.Resources, 0, "", "System resources temporarily unavailable. (#4.3.0)\n")]
    public void Failure_texts(int kind, int code, string said, string expected) =>
        ProcessorText.Failure(B("sign"), new ProcessorOutcome((ProcessorFailure)kind, code, B(said)), 60).Should().Be(expected);

    [Fact]
    public void A_long_or_binary_command_is_shown_printable_and_cut()
    {
        var text = ProcessorText.Failure(B(new string('x', 150) + "\xff"), new ProcessorOutcome(ProcessorFailure.NoOutput), 60);
        text.Should().Be("Send-time processor " + new string('x', 100) + "... produced no output. (#4.3.0)\n");
        ProcessorText.Printable(B("a\tb\xe9"), 10).Should().Be("a?b?");
    }

    [Theory]
    [InlineData(new string[0], "")]
    [InlineData(new[] { "a@b" }, "a@b")]
    [InlineData(new[] { "a@b", "\"x y\"@c", "" }, "a@b\n\"x y\"@c\n")]
    public void Recipients_one_per_line(string[] recipients, string expected) =>
        Encoding.Latin1.GetString(ProcessorText.RecipientList(recipients.Select(B).ToList())).Should().Be(expected);
}
