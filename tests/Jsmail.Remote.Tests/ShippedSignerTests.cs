using System.Text;
using Jsmail.RSpawn;
using Jsmail.TestSupport;

namespace Jsmail.Remote.Tests;

/// <summary>Which control/remoteprocessors lines jsmail-rspawn's pool takes for the shipped DKIM signer, over files in a scratch home.</summary>
public class ShippedSignerTests : IDisposable
{
    private readonly TempDir _dir = new("jsmail-shippedsigner");
    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("bin/jsmail-dkimsign", true)]
    [InlineData(" \tbin/jsmail-dkimsign", true)]
    [InlineData("./bin/jsmail-dkimsign", true)]
    [InlineData("@HOME@/bin/jsmail-dkimsign", true)]
    [InlineData("bin/jsmail-dkimsign -v", false)]
    [InlineData("bin/jsmail-dkimsign;", false)]
    [InlineData("bin/jsmail-dkimsign >/dev/null", false)]
    [InlineData("'bin/jsmail-dkimsign'", false)]
    [InlineData("X=1 bin/jsmail-dkimsign", false)]
    [InlineData("$HOME/bin/jsmail-dkimsign", false)]
    [InlineData("bin/jsmail-dkimsign2", false)]
    [InlineData("jsmail-dkimsign", false)] // not on PATH
    [InlineData("other/jsmail-dkimsign", false)] // no such file
    [InlineData("plain/jsmail-dkimsign", false)] // not executable
    [InlineData("linked/jsmail-dkimsign", false)] // a link to another program
    [InlineData("renamed/jsmail-dkimsign", true)] // a link to the signer
    [InlineData("cat", false)]
    public void What_counts_as_the_shipped_signer(string line, bool expected)
    {
        var home = _dir["home"];
        foreach (var d in new[] { "bin", "plain", "linked", "renamed" }) Directory.CreateDirectory(Path.Combine(home, d));
        File.WriteAllText(Path.Combine(home, "bin", "jsmail-dkimsign"), "");
        File.SetUnixFileMode(Path.Combine(home, "bin", "jsmail-dkimsign"), (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(home, "plain", "jsmail-dkimsign"), "");
        File.CreateSymbolicLink(Path.Combine(home, "linked", "jsmail-dkimsign"), "/bin/cat");
        File.CreateSymbolicLink(Path.Combine(home, "renamed", "jsmail-dkimsign"), "../bin/jsmail-dkimsign");
        ShippedSigner.Is(Encoding.ASCII.GetBytes(line.Replace("@HOME@", home)), home).Should().Be(expected);
    }
}
