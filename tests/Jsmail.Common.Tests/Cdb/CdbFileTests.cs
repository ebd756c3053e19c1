using System.Text;
using Jsmail.Common.Cdb;
using Jsmail.TestSupport;

namespace Jsmail.Common.Tests.Cdb;

public class CdbFileTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private static void Fill(CdbWriter writer, IEnumerable<CdbRecord> records)
    {
        foreach (var r in records)
            writer.Add(r.Key, r.Data);
    }

    [Fact]
    public void File_written_by_Create_reads_back_through_positioned_reads()
    {
        using var dir = new TempDir();
        var records = CdbTestData.Assorted();
        using (var writer = CdbWriter.Create(dir["db.cdb"]))
        {
            Fill(writer, records);
            writer.Finish();
        }

        File.ReadAllBytes(dir["db.cdb"]).Hex().Should().Be(CdbTestData.Build(records).Hex());
        CdbReader.TryOpen(dir["db.cdb"], out var reader).Should().BeTrue();
        using (reader)
        {
            reader!.Mismatches(records).Should().BeEmpty();
            reader!.TryFind(B("absent"), out _).Should().BeFalse();
        }
    }

    [Theory]
    [MemberData(nameof(CdbTestData.CollidingKeys), MemberType = typeof(CdbTestData))]
    public void Keys_with_the_same_hash_are_told_apart_in_a_file(string first, string second)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["only.cdb"], CdbTestData.Build([CdbRecord.Of(first, "1")]));
        File.WriteAllBytes(dir["both.cdb"], CdbTestData.Build([CdbRecord.Of(first, "1"), CdbRecord.Of(second, "2")]));

        using (var onlyFirst = new CdbReader(dir["only.cdb"]))
            onlyFirst.TryFind(B(second), out _).Should().BeFalse();
        using var both = new CdbReader(dir["both.cdb"]);
        both.TryFind(B(second), out var data).Should().BeTrue();
        Encoding.Latin1.GetString(data).Should().Be("2");
        both.FindAll(B(first)).Select(d => Encoding.Latin1.GetString(d)).Should().Equal("1");
    }

    [Fact]
    public void TryOpen_of_a_missing_file_or_directory_is_false()
    {
        using var dir = new TempDir();

        CdbReader.TryOpen(dir["none.cdb"], out var reader).Should().BeFalse();
        reader.Should().BeNull();
        CdbReader.TryOpen(dir["no/such/dir/x.cdb"], out _).Should().BeFalse();
    }

    [Fact]
    public void TryOpen_through_a_file_as_directory_is_an_IOException_not_absence()
    {
        // ENOTDIR, which qmail does not take for "no database" (only ENOENT).
        using var dir = new TempDir();
        File.WriteAllText(dir["plain"], "x");

        FluentActions.Invoking(() => CdbReader.TryOpen(dir["plain/x.cdb"], out _)).Should().Throw<IOException>();
        FluentActions.Invoking(() => CdbReader.TryOpen(dir["plain/sub/x.cdb"], out _)).Should().Throw<IOException>();
    }

    [Fact]
    public void TryOpen_of_a_directory_is_an_IOException()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["sub"]);

        FluentActions.Invoking(() => CdbReader.TryOpen(dir["sub"], out _)).Should().Throw<IOException>();
    }

    [Fact]
    public void TryOpen_of_a_fifo_is_an_IOException_at_once()
    {
        // Without O_NONBLOCK the open would wait for a writer that never comes.
        using var dir = new TempDir();
        Jsmail.TestSupport.Run.Process("mkfifo", [dir["fifo.cdb"]]).ExitCode.Should().Be(0);

        var open = Task.Run(() => FluentActions.Invoking(() => CdbReader.TryOpen(dir["fifo.cdb"], out _)).Should().Throw<IOException>());
        open.Wait(TimeSpan.FromSeconds(10)).Should().BeTrue("a FIFO in the place of a cdb must not block the open");
    }

    [Fact]
    public void TryOpen_of_a_short_file_is_a_CdbFormatException()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["short.cdb"], new byte[100]);

        FluentActions.Invoking(() => CdbReader.TryOpen(dir["short.cdb"], out _)).Should().Throw<CdbFormatException>();
    }

    [Fact]
    public void File_truncated_after_opening_gives_CdbFormatException()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["db.cdb"], CdbTestData.Build([CdbRecord.Of("key", "data")]));
        using var reader = new CdbReader(dir["db.cdb"]);
        using (var f = new FileStream(dir["db.cdb"], FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            f.SetLength(2050);

        reader.Invoking(r => r.TryFind(B("key"), out _)).Should().Throw<CdbFormatException>();
    }

    [Fact]
    public void WriteAtomically_replaces_the_target_with_a_0644_file_and_leaves_no_temporary()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["db.cdb"], "old");
        var records = CdbTestData.Assorted();

        CdbWriter.WriteAtomically(dir["db.cdb"], dir["db.tmp"], w => Fill(w, records));

        File.ReadAllBytes(dir["db.cdb"]).Hex().Should().Be(CdbTestData.Build(records).Hex());
        File.Exists(dir["db.tmp"]).Should().BeFalse();
        var umask = Convert.ToInt32(Run.Shell("umask").Out.Trim(), 8);
        ((int)File.GetUnixFileMode(dir["db.cdb"])).Should().Be(0x1A4 & ~umask, "0644 less the umask ({0})", umask);
    }

    [Fact]
    public void WriteAtomically_may_be_finished_by_the_fill()
    {
        using var dir = new TempDir();

        CdbWriter.WriteAtomically(dir["db.cdb"], dir["db.tmp"], w => { w.Add(B("k"), B("v")); w.Finish(); });

        File.ReadAllBytes(dir["db.cdb"]).Hex().Should().Be(CdbTestData.Build([CdbRecord.Of("k", "v")]).Hex());
    }

    [Fact]
    public void WriteAtomically_passes_the_fills_own_exception_through_and_leaves_the_target_untouched()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["db.cdb"], "old");

        FluentActions.Invoking(() => CdbWriter.WriteAtomically(dir["db.cdb"], dir["db.tmp"], w =>
            {
                w.Add(B("k"), B("v"));
                throw new FormatException("bad format in users/assign");
            }))
            .Should().Throw<FormatException>().WithMessage("bad format in users/assign");
        File.ReadAllText(dir["db.cdb"]).Should().Be("old");
        File.Exists(dir["db.tmp"]).Should().BeFalse();
    }

    [Fact]
    public void WriteAtomically_reports_a_failed_rename_and_removes_the_temporary()
    {
        using var dir = new TempDir();
        // rename(2) of a file over a non-empty directory fails.
        Directory.CreateDirectory(dir["db.cdb"]);
        File.WriteAllText(dir["db.cdb/keep"], "x");

        FluentActions.Invoking(() => CdbWriter.WriteAtomically(dir["db.cdb"], dir["db.tmp"], w => w.Add(B("k"), B("v"))))
            .Should().Throw<CdbAtomicWriteException>().Which.Step.Should().Be(CdbAtomicWriteStep.Rename);
        File.Exists(dir["db.cdb/keep"]).Should().BeTrue();
        File.Exists(dir["db.tmp"]).Should().BeFalse();
    }

    [Fact]
    public void WriteAtomically_reports_an_unopenable_temporary()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["db.cdb"], "old");

        FluentActions.Invoking(() => CdbWriter.WriteAtomically(dir["db.cdb"], dir["missing/db.tmp"], w => w.Add(B("k"), B("v"))))
            .Should().Throw<CdbAtomicWriteException>().Which.Step.Should().Be(CdbAtomicWriteStep.OpenTemporary);
        File.ReadAllText(dir["db.cdb"]).Should().Be("old");
    }

    /// <summary>
    /// The temporary is a symlink to /dev/full, whose writes fail with ENOSPC; removing the
    /// temporary removes the link, not the device. Small data fails when Finish flushes,
    /// large data already inside Add.
    /// </summary>
    [Theory]
    [InlineData(10)]
    [InlineData(200_000)]
    public void WriteAtomically_reports_a_failed_write_and_removes_the_temporary(int dataLength)
    {
        File.Exists("/dev/full").Should().BeTrue("this test needs /dev/full");
        using var dir = new TempDir();
        File.WriteAllText(dir["db.cdb"], "old");
        File.CreateSymbolicLink(dir["db.tmp"], "/dev/full");

        FluentActions.Invoking(() => CdbWriter.WriteAtomically(dir["db.cdb"], dir["db.tmp"], w => w.Add(B("k"), new byte[dataLength])))
            .Should().Throw<CdbAtomicWriteException>().Which.Step.Should().Be(CdbAtomicWriteStep.WriteTemporary);
        File.ReadAllText(dir["db.cdb"]).Should().Be("old");
        File.Exists(dir["db.tmp"]).Should().BeFalse();
        new FileInfo(dir["db.tmp"]).LinkTarget.Should().BeNull("the link is gone");
        File.Exists("/dev/full").Should().BeTrue();
    }

    [Fact]
    public void WriteAtomically_passes_caller_misuse_through_and_leaves_the_target_untouched()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["db.cdb"], "old");

        FluentActions.Invoking(() => CdbWriter.WriteAtomically(dir["db.cdb"], dir["db.tmp"], w =>
            {
                w.Add(B("k"), B("v"));
                w.Dispose();
            }))
            .Should().Throw<ObjectDisposedException>("misuse by the caller is not an I/O failure");
        File.ReadAllText(dir["db.cdb"]).Should().Be("old");
        File.Exists(dir["db.tmp"]).Should().BeFalse();
    }
}
