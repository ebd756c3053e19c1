using System.Text;
using Jsmail.TestSupport;
using Jsmail.Common.Smtp.Plugins.Native;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// Native plugins (docs/plugins.md): the C example in examples/plugins/c,
/// built with cc during the run, loaded from control/plugins by both
/// drivers; and the same source built broken in each documented way.
/// </summary>
public sealed class NativePluginTests : IDisposable
{
    private readonly SmtpdHome _h = new();

    public void Dispose() => _h.Dispose();

    private static readonly TempDir Built = new("jsmail-plugins");
    private static readonly Dictionary<string, string> Libraries = new();

    /// <summary>The example built once per run, as an operator builds it; <paramref name="broken"/> names an EXAMPLE_BROKEN_ macro.</summary>
    private static string Library(string? broken = null)
    {
        lock (Libraries)
        {
            var name = broken ?? "example";
            if (Libraries.TryGetValue(name, out var path)) return path;
            path = Built[name + ".so"];
            List<string> args = ["-shared", "-fPIC", "-I", Path.Combine(Repo.Root, "include"), "-o", path,
                Path.Combine(Repo.Root, "examples", "plugins", "c", "example.c")];
            if (broken != null) args.Insert(0, "-DEXAMPLE_BROKEN_" + broken);
            var r = Run.Process("cc", args, timeoutMs: 60_000);
            r.ExitCode.Should().Be(0, r.Err);
            return Libraries[name] = path;
        }
    }

    private void Load(string? broken = null, string args = "ALPHA BETA") =>
        _h.Home.WriteControl("plugins", $"# the example\n{Library(broken)} {args}\n");

    private const string Ehlo = "220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n" +
                                "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250-LIMITS RCPTMAX=100\r\n250 X-EXAMPLE ALPHA BETA\r\n";

    [Theory, ForEachDriver]
    public void The_example_adds_its_keyword_verb_and_parameter_and_refuses_a_recipient_with_its_own_text(SmtpdDriver driver)
    {
        Load();
        var r = _h.Talk(driver, "EHLO c.example\r\nXHELLO there\r\nMAIL FROM:<s@x.example> X-TAG=bad!\r\n" +
                                "MAIL FROM:<s@x.example> X-OTHER=1\r\nMAIL FROM:<s@x.example> X-TAG=blue\r\n" +
                                "RCPT TO:<blocked@example.com>\r\nRCPT TO:<a@example.com>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        r.Out.Should().MatchRegex("^" + Ehlo.Replace("\r\n", "\\r\\n") + "250 2.0.0 hello 127.0.0.1\r\n" +
                                  "501 5.5.4 X-TAG wants letters and digits\r\n" +
                                  "555 5.5.4 .*\r\n" +
                                  "250 2.1.0 ok\r\n" +
                                  "553 5.7.1 example plugin says no to <blocked@example.com>\r\n" +
                                  "250 2.1.5 ok\r\n354 go ahead\r\n250 2.0.0 ok \\d+ qp \\d+\r\n221 2.0.0 mx.example\r\n$");
        r.Err.Should().Contain("example: refused <blocked@example.com> from 127.0.0.1");
        _h.Queued().Should().ContainSingle();
        var ext = _h.Home.Entries("ext").Should().ContainSingle().Subject;
        SmtpdHome.S(_h.Home.ReadQueueFile(Path.Combine("ext", ext))).Should().Contain("MX-TAG=blue\0",
            "a registered parameter travels in the envelope extension");
    }

    [Theory, ForEachDriver]
    public void Under_qmail_compat_no_plugin_is_loaded(SmtpdDriver driver)
    {
        Load();
        var r = _h.Talk(driver, "EHLO c.example\r\nXHELLO\r\nQUIT\r\n", compat: true);
        r.Out.Should().Be("220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n502 unimplemented (#5.5.1)\r\n221 mx.example\r\n");
    }

    [Theory]
    [InlineData("ABI", "ABI version 43, this jsmail speaks versions 1 to 2")]
    [InlineData("NO_VERSION", "the symbol jsmail_plugin_abi_version is missing")]
    [InlineData("INIT", "jsmail_plugin_init failed with 9")]
    public void A_plugin_that_cannot_be_used_stops_jsmail_smtpd_with_the_reason(string broken, string reason)
    {
        Load(broken);
        var r = _h.Talk(SmtpdDriver.PerConnection, "EHLO c.example\r\nQUIT\r\n");
        r.Out.Should().Be("421 unable to read controls (#4.3.0)\r\n");
        r.Err.Should().Contain($"plugin {Library(broken)}: {reason}: refusing to start");
        r.ExitCode.Should().Be(1);
    }

    [Fact]
    public void A_plugin_that_cannot_be_used_stops_server_mode_at_start()
    {
        Load("ABI");
        using var scratch = new TempDir("jsmail-plugin-server");
        var act = () => new ServerModeServer(_h.Home.Path, scratch.Path);
        act.Should().Throw<InvalidOperationException>().WithMessage($"*fatal: plugin {Library("ABI")}: ABI version 43*");
    }

    [Theory, ForEachDriver]
    public void A_hook_past_its_deadline_and_a_hook_with_an_out_of_range_code_tempfail_and_the_session_goes_on(SmtpdDriver driver)
    {
        _h.Home.WriteControl("plugintimeout", "1\n");
        foreach (var (broken, log) in new[] { ("HANG", "did not return within 1 s: abandoned"), ("CODE", "hook returned decision 2 with reply code 250") })
        {
            Load(broken);
            var r = _h.Talk(driver, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nXHELLO\r\nQUIT\r\n");
            r.Out.Should().Be(Ehlo + "250 2.1.0 ok\r\n451 4.3.0 temporary plugin failure\r\n451 4.3.0 temporary plugin failure\r\n" +
                              "250 2.0.0 hello 127.0.0.1\r\n221 2.0.0 mx.example\r\n", broken);
            r.Err.Should().Contain(log);
        }
    }

    [Fact]
    public void Swaks_sees_the_keyword_through_tcpserver_and_server_mode()
    {
        Load();
        using var dir = new TempDir("jsmail-plugin-swaks");
        var port = Ports.Free();
        using var tcpserver = Run.Start("tcpserver", ["-R", "-H", "-l", "mx.example", "127.0.0.1", port.ToString(), _h.Home.Bin("qmail-smtpd")],
            env: SmtpdHome.BaseEnvironment(compat: false).Where(kv => kv.Key.StartsWith("TCP") || kv.Value == null).ToDictionary(kv => kv.Key, _ => (string?)null),
            redirect: Redirect.Error | Redirect.Output);
        try
        {
            Ports.WaitForListener(port, "tcpserver");
            using var server = new ServerModeServer(_h.Home.Path, dir.Path);
            foreach (var p in new[] { port, server.Port })
            {
                var r = SwaksClient.Send("127.0.0.1", p, "--to", "blocked@example.com", "--quit-after", "RCPT");
                r.Out.Should().Contain("<-  250 X-EXAMPLE ALPHA BETA").And.Contain("<** 553 5.7.1 example plugin says no to <blocked@example.com>");
            }
        }
        finally { tcpserver.Kill(entireProcessTree: true); }
    }

    /// <summary>The C# template published as an operator would (slow: a Native AOT build), in a copy outside the tree.</summary>
    private static readonly Lazy<string> CSharpPlugin = new(() =>
    {
        var source = Path.Combine(Repo.Root, "examples", "plugins", "csharp");
        var copy = Built["csharp"];
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        var r = Run.Process("dotnet", ["publish", Path.Combine(copy, "JsmailPluginTemplate.csproj"), "-c", "Release", "-r", "linux-x64",
            "-p:NativeLib=Shared", "-o", Path.Combine(copy, "out")], timeoutMs: 900_000);
        r.ExitCode.Should().Be(0, r.Out + r.Err);
        return Path.Combine(copy, "out", "JsmailPluginTemplate.so");
    });

    /// <summary>
    /// Server mode only: the per-connection jsmail-smtpd is linked statically,
    /// and a second Native AOT runtime dlopen'ed into a static program crashes
    /// on its thread-local storage (docs/plugins.md).
    /// </summary>
    [Fact]
    public void The_csharp_template_built_as_a_native_library_adds_its_keyword_and_refuses_a_helo()
    {
        var driver = SmtpdDriver.Server;
        _h.Home.WriteControl("plugins", $"{CSharpPlugin.Value} FROM CSHARP\n");
        var r = _h.Talk(driver, "EHLO c.example\r\nHELO forbidden.example\r\nQUIT\r\n");
        r.Out.Should().Be(Ehlo.Replace("250 X-EXAMPLE ALPHA BETA", "250 X-CSHARP FROM CSHARP") +
                          "550 5.7.1 the C# template refuses that name\r\n221 2.0.0 mx.example\r\n");
    }

    [Fact]
    public void The_static_per_connection_program_refuses_a_csharp_plugin_with_the_reason_instead_of_crashing()
    {
        _h.Home.WriteControl("plugins", $"{CSharpPlugin.Value} FROM CSHARP\n");
        var r = _h.Talk(SmtpdDriver.PerConnection, "EHLO c.example\r\nQUIT\r\n");
        r.Out.Should().Be("421 unable to read controls (#4.3.0)\r\n");
        r.Err.Should().Contain($"plugin {CSharpPlugin.Value}: has thread-local storage, which this statically linked program cannot give it");
        r.ExitCode.Should().Be(1);
    }

    [Fact]
    public void Elf_segments_tell_a_static_program_and_a_library_with_thread_local_storage()
    {
        ElfSegments.OfFile(Repo.Program("jsmail-smtpd")).Should().NotContain(ElfSegments.Interpreter);
        ElfSegments.OfFile(Repo.Program("jsmail-send")).Should().Contain(ElfSegments.Interpreter);
        ElfSegments.OfFile(CSharpPlugin.Value).Should().Contain(ElfSegments.ThreadLocalStorage);
        ElfSegments.OfFile(Library()).Should().NotContain(ElfSegments.ThreadLocalStorage);
        ElfSegments.Types("not an ELF file at all, but long enough to be read as one if nothing checked it"u8).Should().BeEmpty();
    }
}
