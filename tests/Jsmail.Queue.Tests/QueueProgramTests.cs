using System.Text;
using System.Text.RegularExpressions;
using Jsmail.TestSupport;
using static Jsmail.Queue.Tests.QueueRunner;

namespace Jsmail.Queue.Tests;

/// <summary>jsmail-queue as a process against qmail-interfaces §1 and §16 items 1-4.</summary>
public class QueueProgramTests : IDisposable
{
    private readonly TestHome _home = TestHome.Install();

    public void Dispose() => _home.Dispose();

    private static readonly byte[] Message = B("Subject: hi\n\nbody line\n.\nlast line without LF");

    [Fact]
    public void Queues_a_message_exactly_as_qmail_queue_does()
    {
        var r = Run(_home, Message, B("Fa@x\0Tb@y\0\0"));
        r.ExitCode.Should().Be(0);

        var todo = _home.Entries("todo").Should().ContainSingle().Subject;
        var id = ulong.Parse(todo);
        _home.Entries("intd").Should().Equal(todo);
        _home.Entries("mess").Should().Equal($"{id % 23}/{id}");
        _home.Entries("pid").Should().BeEmpty();
        _home.Entries("ext").Should().BeEmpty();

        Inode(_home.Queue($"mess/{id % 23}/{id}")).Should().Be(id, "the id is the mess file's inode");
        Inode(_home.Queue($"todo/{id}")).Should().Be(Inode(_home.Queue($"intd/{id}")), "todo is a hard link of intd");

        var uid = Jsmail.Common.Os.Libc.Getuid();
        var todoText = Encoding.Latin1.GetString(_home.ReadQueueFile($"todo/{id}"));
        var m = Regex.Match(todoText, "^u(\\d+)\0p(\\d+)\0Fa@x\0Tb@y\0$");
        m.Success.Should().BeTrue(todoText);
        m.Groups[1].Value.Should().Be(uid.ToString());
        var pid = m.Groups[2].Value;

        var mess = _home.ReadQueueFile($"mess/{id % 23}/{id}");
        var text = Encoding.Latin1.GetString(mess);
        var firstLine = text[..(text.IndexOf('\n') + 1)];
        firstLine.Should().MatchRegex(
            $"^Received: \\(qmail {pid} invoked by uid {uid}\\); [1-9]\\d? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \\d{{4}} \\d\\d:\\d\\d:\\d\\d -0000\n$");
        mess.AsSpan(firstLine.Length).ToArray().Should().Equal(Message, "the message follows byte for byte");
    }

    [Fact]
    public void Files_get_qmails_modes_under_umask_033()
    {
        Run(_home, Message, B("Fa\0Tb\0\0")).ExitCode.Should().Be(0);
        var id = ulong.Parse(_home.Entries("todo").Single());
        foreach (var f in new[] { $"mess/{id % 23}/{id}", $"intd/{id}", $"todo/{id}" })
            File.GetUnixFileMode(_home.Queue(f)).Should().Be((UnixFileMode)0x1A4, f); // 0644
    }

    [Fact]
    public void Pulls_the_trigger_with_one_nul_byte()
    {
        using var trigger = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(
            Jsmail.Common.Os.Libc.Open(_home.Queue("lock/trigger"), Jsmail.Common.Os.Libc.O_RDONLY | Jsmail.Common.Os.Libc.O_NONBLOCK, 0), true), FileAccess.Read);
        Run(_home, Message, B("Fa\0Tb\0\0")).ExitCode.Should().Be(0);
        var buf = new byte[16];
        trigger.Read(buf, 0, 16).Should().Be(1);
        buf[0].Should().Be(0);
    }

    [Fact]
    public void Zero_recipients_are_accepted()
    {
        Run(_home, Message, B("Fa@x\0\0")).ExitCode.Should().Be(0);
        var id = _home.Entries("todo").Single();
        Encoding.Latin1.GetString(_home.ReadQueueFile("todo/" + id)).Should().EndWith("\0Fa@x\0");
    }

    [Fact]
    public void Empty_message_and_null_sender()
    {
        Run(_home, [], B("F\0Tb@y\0\0")).ExitCode.Should().Be(0);
        var id = ulong.Parse(_home.Entries("todo").Single());
        Encoding.Latin1.GetString(_home.ReadQueueFile($"mess/{id % 23}/{id}")).Should().StartWith("Received: (qmail ").And.EndWith(" -0000\n");
    }

    public static TheoryData<string, string, int> EnvelopeErrors => new()
    {
        // name, envelope, exit code
        { "EOF before the final NUL", "Fa@x\0Tb@y\0", 54 },
        { "EOF inside the sender", "Fa@x", 54 },
        { "empty envelope", "", 54 },
        { "first byte not F", "Ta@x\0\0", 91 },
        { "record neither T nor NUL", "Fa@x\0Xb\0\0", 91 },
        { "second F record", "Fa\0Fb\0\0", 91 },
    };

    [Theory, MemberData(nameof(EnvelopeErrors))]
    public void Envelope_errors_get_qmails_exit_codes_and_cleanup(string name, string envelope, int code)
    {
        Run(_home, Message, B(envelope)).ExitCode.Should().Be(code, name);
        _home.Entries("todo").Should().BeEmpty();
        _home.Entries("pid").Should().BeEmpty();
        if (code == 54)
        {
            _home.Entries("mess").Should().BeEmpty("a read error cleans up");
            _home.Entries("intd").Should().BeEmpty("a read error cleans up");
        }
        else
        {
            _home.Entries("mess").Should().ContainSingle("91 leaves its files for the 36-hour cleanup");
            _home.Entries("intd").Should().ContainSingle("91 leaves its files for the 36-hour cleanup");
        }
    }

    [Theory]
    [InlineData(1002, 0)]
    [InlineData(1003, 11)]
    public void Address_of_1002_bytes_is_accepted_and_1003_refused(int length, int code)
    {
        var addr = new string('a', length);
        Run(_home, Message, B($"F{addr}\0\0")).ExitCode.Should().Be(code);
        Run(_home, Message, B($"Fs\0T{addr}\0\0")).ExitCode.Should().Be(code);
        if (code == 11)
        {
            _home.Entries("todo").Should().BeEmpty();
            _home.Entries("mess").Should().HaveCount(2, "11 leaves mess and intd for the cleanup");
            _home.Entries("intd").Should().HaveCount(2);
        }
    }

    [Theory]
    [InlineData("queue", 62)]
    [InlineData("queue/pid", 63)]
    [InlineData("queue/intd", 65)]
    [InlineData("queue/todo", 66)]
    public void Missing_queue_directories_give_their_exit_codes(string dir, int code)
    {
        Directory.Delete(System.IO.Path.Combine(_home.Path, dir), recursive: true);
        Run(_home, Message, B("Fa\0Tb\0\0")).ExitCode.Should().Be(code);
        if (dir != "queue" && dir != "queue/todo") Directory.Exists(_home.Queue("todo")).Should().BeTrue();
        if (Directory.Exists(_home.Queue("todo"))) _home.Entries("todo").Should().BeEmpty();
    }

    [Fact]
    public void Missing_mess_split_directory_gives_64()
    {
        for (var i = 0; i < 23; i++) Directory.Delete(_home.Queue($"mess/{i}"));
        Run(_home, Message, B("Fa\0Tb\0\0")).ExitCode.Should().Be(64);
        _home.Entries("todo").Should().BeEmpty();
    }

    [Fact]
    public void Home_it_cannot_enter_gives_61()
    {
        // The program runs from an open descriptor after its home was removed:
        // the home it derives from its own path no longer exists.
        using var dir = new TempDir("jsmail-gone");
        Directory.CreateDirectory(dir["home/bin"]);
        File.Copy(_home.Bin("jsmail-queue"), dir["home/bin/jsmail-queue"]);
        File.SetUnixFileMode(dir["home/bin/jsmail-queue"], (UnixFileMode)0x1ED);
        var r = TestSupport.Run.Shell("exec 5<\"$1/bin/jsmail-queue\"; rm -rf \"$1\"; /proc/self/fd/5 </dev/null 1</dev/null; echo -n $?",
            args: dir["home"]);
        r.Out.Should().Be("61");
    }

    private static ulong Inode(string path)
    {
        Jsmail.Common.Os.Libc.StatPath(path, out var st).Should().Be(0);
        return st.Ino;
    }

}
