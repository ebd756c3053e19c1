using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.Queue.Tests;

/// <summary>A full disk and a huge message: the queue's limits are the disk's, never memory.</summary>
public class ResourceTests
{
    [Fact]
    public void Full_disk_exits_53_and_leaves_nothing_behind()
    {
        using var mount = new TempDir("jsmail-tmpfs");
        using var onlyQueue = new TempDir("jsmail-prebuilt");
        File.Copy(Repo.Program("jsmail-queue"), onlyQueue["jsmail-queue"]);
        File.SetUnixFileMode(onlyQueue["jsmail-queue"], (UnixFileMode)0x1ED);
        Run.Shell("mount -t tmpfs -o size=8m jsmail-test \"$1\"", args: mount.Path).ExitCode.Should().Be(0);
        try
        {
            using var home = TestHome.Install(publishedDir: onlyQueue.Path, parent: mount.Path);
            var big = new byte[12 << 20];
            var r = QueueRunner.Run(home, big, Encoding.ASCII.GetBytes("Fa\0Tb\0\0"));
            r.ExitCode.Should().Be(53);
            home.Entries("todo").Should().BeEmpty();
            home.Entries("mess").Should().BeEmpty("a write error truncates and removes the message");
            home.Entries("intd").Should().BeEmpty();
            home.Entries("pid").Should().BeEmpty();

            QueueRunner.Run(home, Encoding.ASCII.GetBytes("Subject: small\n\nok\n"), Encoding.ASCII.GetBytes("Fa\0Tb\0\0"))
                .ExitCode.Should().Be(0, "the space came back");
        }
        finally
        {
            Run.Shell("umount -l \"$1\"", args: mount.Path);
        }
    }

    [Fact]
    public void Memory_does_not_grow_with_message_size()
    {
        using var home = TestHome.Install();
        long Rss(long megabytes)
        {
            var r = Run.Process("/usr/bin/python3", ["-c", """
                import resource, subprocess, sys
                prog, env, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
                with open(env, 'rb') as e:
                    p = subprocess.Popen([prog], stdin=subprocess.PIPE, stdout=e)
                    chunk = b'z' * 65535 + b'\n'
                    for _ in range(mb * 16):
                        p.stdin.write(chunk)
                    p.stdin.close()
                    rc = p.wait()
                print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
                """, home.Bin("jsmail-queue"), EnvFile(home), megabytes.ToString()], timeoutMs: 120_000);
            var parts = r.Out.Trim().Split(' ');
            parts[0].Should().Be("0", r.Err);
            return long.Parse(parts[1]);
        }
        var small = Rss(1);
        var huge = Rss(256);
        (huge - small).Should().BeLessThan(8 * 1024, $"peak RSS {small} KiB for 1 MiB and {huge} KiB for 256 MiB");
    }

    private static string EnvFile(TestHome home)
    {
        var path = Path.Combine(home.Path, "..", "env");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("Fa\0Tb\0\0"));
        return path;
    }
}
