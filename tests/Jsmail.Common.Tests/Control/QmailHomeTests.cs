using System.Text;
using Jsmail.Common.Os;
using Jsmail.Common.Control;

namespace Jsmail.Common.Tests.Control;

public class QmailHomeTests
{
    [Theory]
    [InlineData("/var/qmail/bin/jsmail-queue", "/var/qmail")]
    [InlineData("/var/qmail/bin/qmail-queue", "/var/qmail")]
    [InlineData("/opt/jsmail/test 1/bin/jsmail-send", "/opt/jsmail/test 1")]
    [InlineData("/bin/jsmail-local", "/")]
    public void Home_is_the_parent_of_bin(string executable, string expected) =>
        QmailHome.FromExecutable(executable).Should().Be(expected);

    [Theory]
    [InlineData("jsmail-queue")]
    [InlineData("bin/jsmail-queue")]
    [InlineData("/var/qmail/sbin/jsmail-queue")]
    [InlineData("/var/qmail/Bin/jsmail-queue")]
    [InlineData("/var/qmail/bin/")]
    [InlineData("/jsmail-queue")]
    [InlineData("")]
    public void Executable_outside_a_bin_directory_is_refused(string executable)
    {
        var act = () => QmailHome.FromExecutable(executable);
        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Current_follows_the_running_executable()
    {
        // The test host does not run from a bin/ directory, so Current must refuse it
        // unless it happens to; either way it agrees with FromExecutable.
        string path = Environment.ProcessPath!;
        if (Path.GetFileName(Path.GetDirectoryName(path)) == "bin")
            QmailHome.Current.Should().Be(QmailHome.FromExecutable(path));
        else
            ((Func<string>)(() => QmailHome.Current)).Should().Throw<InvalidOperationException>();
    }
}

// Touches the process environment: not run in parallel with anything else that reads it.
[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public class EnvironmentCollection;

[Collection(nameof(EnvironmentCollection))]
public class CompatTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("qmail", true)]
    [InlineData("QMAIL", false)]
    [InlineData("qmail ", false)]
    [InlineData("jsmail", false)]
    public void IsQmail_only_for_exactly_qmail(string? value, bool expected)
    {
        // Compat reads libc's environment, which .NET's SetEnvironmentVariable does not reach.
        var saved = Libc.Getenv("JSMAIL_COMPAT");
        try
        {
            Set(value == null ? null : Encoding.UTF8.GetBytes(value));
            Compat.IsQmail.Should().Be(expected);
        }
        finally
        {
            Set(saved);
        }
    }

    private static void Set(byte[]? value)
    {
        if (value == null) Libc.Unsetenv("JSMAIL_COMPAT");
        else Libc.Setenv("JSMAIL_COMPAT", value);
    }
}
