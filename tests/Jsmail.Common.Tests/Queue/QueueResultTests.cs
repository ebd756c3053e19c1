using System.Text;
using Jsmail.Common.Queue;

namespace Jsmail.Common.Tests.Queue;

public class QueueResultTests
{
    public static TheoryData<int, string> ExitTexts => new()
    {
        { 0, "" },
        { 54, "Zqq read error (#4.3.0)" },
        { 11, "Denvelope address too long for qq (#5.1.3)" },
        { 115, "Denvelope address too long for qq (#5.1.3)" },
        { 31, "Dmail server permanently rejected message (#5.3.0)" },
        { 51, "Zqq out of memory (#4.3.0)" },
        { 52, "Zqq timeout (#4.3.0)" },
        { 53, "Zqq write error or disk full (#4.3.0)" },
        { 55, "Zqq unable to read configuration (#4.3.0)" },
        { 56, "Zqq trouble making network connection (#4.3.0)" },
        { 61, "Zqq trouble in home directory (#4.3.0)" },
        { 62, "Zqq trouble creating files in queue (#4.3.0)" },
        { 63, "Zqq trouble creating files in queue (#4.3.0)" },
        { 64, "Zqq trouble creating files in queue (#4.3.0)" },
        { 65, "Zqq trouble creating files in queue (#4.3.0)" },
        { 66, "Zqq trouble creating files in queue (#4.3.0)" },
        { 71, "Zmail server temporarily rejected message (#4.3.0)" },
        { 72, "Zconnection to mail server timed out (#4.4.1)" },
        { 73, "Zconnection to mail server rejected (#4.4.1)" },
        { 74, "Zcommunication with mail server failed (#4.4.2)" },
        { 81, "Zqq internal bug (#4.3.0)" },
        { 91, "Zqq internal bug (#4.3.0)" },
        { 120, "Zunable to exec qq (#4.3.0)" },
        { 12, "Dqq permanent problem (#5.3.0)" },
        { 40, "Dqq permanent problem (#5.3.0)" },
        { 41, "Zqq temporary problem (#4.3.0)" },
        { 10, "Zqq temporary problem (#4.3.0)" },
        { 1, "Zqq temporary problem (#4.3.0)" },
        { 100, "Zqq temporary problem (#4.3.0)" },
        { 255, "Zqq temporary problem (#4.3.0)" },
        { 82, "Zqq temporary problem (#4.3.0)" },
    };

    [Theory, MemberData(nameof(ExitTexts))]
    public void Maps_every_exit_code_as_qmail_does(int code, string text) =>
        QueueResult.FromExit(code, false, default).ToString().Should().Be(text);

    [Theory]
    [InlineData("Dno thanks", "Dno thanks")]
    [InlineData("Ztry later", "Ztry later")]
    [InlineData("Xodd", "Xodd")]
    [InlineData("Dab", "Dab")]
    [InlineData("Da", "Zqq temporary problem (#4.3.0)")]
    [InlineData("D", "Zqq temporary problem (#4.3.0)")]
    [InlineData("", "Zqq temporary problem (#4.3.0)")]
    public void Exit_82_takes_the_pipe_text_only_when_longer_than_two_bytes(string pipe, string text)
    {
        var r = QueueResult.FromExit(82, false, Encoding.ASCII.GetBytes(pipe));
        r.ToString().Should().Be(text);
        r.Permanent.Should().Be(text.StartsWith('D'));
    }

    [Fact]
    public void Success_with_a_caller_write_error_is_a_read_error() =>
        QueueResult.FromExit(0, true, default).ToString().Should().Be("Zqq read error (#4.3.0)");

    [Fact]
    public void Only_a_leading_D_is_permanent()
    {
        QueueResult.FromExit(31, false, default).Permanent.Should().BeTrue();
        QueueResult.FromExit(53, false, default).Permanent.Should().BeFalse();
        QueueResult.FromExit(0, false, default).Success.Should().BeTrue();
    }
}
