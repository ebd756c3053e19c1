using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.DkimSign.Tests;

/// <summary>
/// jsmail-dkimsign as a process: its signatures checked by python3-dkim with
/// keys made by openssl; the message passes unchanged behind the one field it adds.
/// </summary>
public class DkimSignProgramTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();
    private readonly TempDir _dir = new("jsmail-dkimsign");
    private readonly Dictionary<string, string> _dns = new();
    public void Dispose() { _home.Dispose(); _dir.Dispose(); }

    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(byte[] b) => Encoding.Latin1.GetString(b);

    /// <summary>A key for <paramref name="domain"/>: its file under the home and its DNS record for the verifier.</summary>
    private void Key(string domain, string selector, string file, bool traditional = false, int bits = 2048)
    {
        Directory.CreateDirectory(Path.Combine(_home.Path, "control", "dkim"));
        _dns[$"{selector}._domainkey.{domain}"] = DkimVerifier.MakeKey(Path.Combine(_home.Path, file), bits, traditional);
    }

    private RunResult Sign(byte[] message, string? sender = "sender@envelope.test", bool viaPipe = false)
    {
        File.WriteAllBytes(_dir["in"], message);
        // fd 0 a file (as jsmail-remote gives it), or a pipe (the signer spools it)
        var script = viaPipe ? "cat \"$2\" | \"$1\"" : "exec \"$1\" <\"$2\"";
        var env = new Dictionary<string, string?> { ["SENDER"] = sender };
        return Run.Shell(script, env: env, timeoutMs: 60_000, args: [_home.Bin("jsmail-dkimsign"), _dir["in"]]);
    }

    public static TheoryData<string, string> Messages => new()
    {
        { "plain", "From: Alice <alice@example.com>\nTo: bob@dest.test\nSubject: hello\nDate: Sat, 28 Nov 2026 18:00:00 +0000\nMessage-ID: <1@example.com>\n\nHello Bob.\n.dot line\n\n\n" },
        { "folded", "From: A very long display name that goes on\n <alice@example.com>\nTo: bob@dest.test,\n\tcarol@dest.test,\n  dave@dest.test\nSubject:   spaced    out\n\t subject   \nX-Unsigned: x\n\nbody  with   spaces   \n\t\n" },
        { "8bit", "From: J\xfcrgen <j@example.com>\nSubject: gr\xfc\xdf" + "e\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nGr\xfc\xdf" + "e aus K\xf6ln \xe9t\xe9\n" },
        { "crlf", "From: alice@example.com\r\nSubject: crlf\r\n\r\nline one\r\nline two\r\n" },
        { "empty body", "From: alice@example.com\nSubject: nothing\n\n" },
        { "no body", "From: alice@example.com\nSubject: header only\n" },
        // jsmail-remote sends a lone CR as a line end, so it is one for the signature too
        { "bare CR", "From: alice@example.com\nSubject: cr\n\nbare\rcr in body\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_real_verifier_accepts_the_signature_and_the_message_is_unchanged_behind_it(string kind, string text)
    {
        Key("example.com", "sel1", "control/dkim/example.pem");
        _home.WriteControl("dkimkeys", "example.com:sel1:control/dkim/example.pem\n");
        var message = B(text);
        foreach (var viaPipe in new[] { false, true })
        {
            var r = Sign(message, viaPipe: viaPipe);
            r.ExitCode.Should().Be(0, kind + ": " + r.Err);
            var output = r.Stdout;
            S(output).Should().StartWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1;");
            var added = output.Length - message.Length;
            added.Should().BePositive();
            output.AsSpan(added).SequenceEqual(message).Should().BeTrue($"{kind}: only a field is put in front");
            DkimVerifier.Verify(output, _dns).Should().Be("pass sel1._domainkey.example.com", kind);
        }
    }

    [Fact]
    public void A_changed_body_or_an_added_from_field_fails_verification()
    {
        Key("example.com", "sel1", "control/dkim/example.pem");
        _home.WriteControl("dkimkeys", "example.com:sel1:control/dkim/example.pem\n");
        var signed = S(Sign(B("From: alice@example.com\nSubject: s\n\nthe body\n")).Stdout);
        DkimVerifier.Verify(B(signed), _dns).Should().StartWith("pass");
        DkimVerifier.Verify(B(signed.Replace("the body", "the bodY")), _dns).Should().StartWith("fail");
        DkimVerifier.Verify(B(signed.Replace("Subject: s\n", "Subject: s\nFrom: mallory@evil.test\n")), _dns).Should().StartWith("fail");
        DkimVerifier.Verify(B(signed.Replace("\n\nthe body", "\nSubject: again\n\nthe body")), _dns).Should().StartWith("fail");
    }

    [Fact]
    public void Keys_per_domain_with_suffix_default_and_envelope_sender()
    {
        Key("example.com", "a", "control/dkim/a.pem", traditional: true);
        Key("example.org", "b", "control/dkim/b.pem");
        Key("author.test", "c", "control/dkim/c.pem");
        Key("envelope.test", "e", "control/dkim/e.pem");
        _home.WriteControl("dkimkeys",
            "example.com:a:control/dkim/a.pem\n.example.org:b:" + Path.Combine(_home.Path, "control/dkim/b.pem") + "\n" +
            ":c:control/dkim/c.pem\nenvelope.test:e:control/dkim/e.pem\n");

        var bySuffix = Sign(B("From: x@mail.example.org\n\nbody\n")).Stdout;
        S(bySuffix).Should().Contain("d=example.org; s=b;");
        DkimVerifier.Verify(bySuffix, _dns).Should().Be("pass b._domainkey.example.org");

        var byDefault = Sign(B("From: x@author.test\n\nbody\n")).Stdout;
        S(byDefault).Should().Contain("d=author.test; s=c;");
        DkimVerifier.Verify(byDefault, _dns).Should().Be("pass c._domainkey.author.test");

        var pkcs1 = Sign(B("From: x@example.com\n\nbody\n")).Stdout;
        DkimVerifier.Verify(pkcs1, _dns).Should().Be("pass a._domainkey.example.com");
    }

    [Fact]
    public void Without_a_key_for_the_domain_the_message_passes_unchanged()
    {
        _home.WriteControl("dkimkeys", "example.com:sel:control/dkim/missing.pem\n");
        var message = B("From: x@other.test\n\nbody \xff\n");
        var r = Sign(message, sender: "y@other.test");
        r.ExitCode.Should().Be(0);
        r.Stdout.Should().Equal(message);

        File.Delete(_home.Control("dkimkeys"));
        Sign(message, viaPipe: true).Stdout.Should().Equal(message);
    }

    [Theory]
    [InlineData("missing", "unable to read key")]
    [InlineData("garbage", "is not an unencrypted PEM RSA private key")]
    [InlineData("short", "has 512 bits, fewer than 1024")]
    public void A_key_that_cannot_be_used_is_a_temporary_failure_with_nothing_written(string problem, string said)
    {
        var file = "control/dkim/k.pem";
        if (problem == "garbage") { Directory.CreateDirectory(_home.Control("dkim")); File.WriteAllText(Path.Combine(_home.Path, file), "not a key\n"); }
        if (problem == "short") Key("example.com", "s", file, bits: 512);
        _home.WriteControl("dkimkeys", $"example.com:s:{file}\n");
        var r = Sign(B("From: x@example.com\n\nbody\n"));
        r.ExitCode.Should().Be(111);
        r.Stdout.Should().BeEmpty();
        r.Err.Should().StartWith("jsmail-dkimsign: ").And.Contain(said);
    }
}
