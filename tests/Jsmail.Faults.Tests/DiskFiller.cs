using Microsoft.Win32.SafeHandles;

namespace Jsmail.Faults.Tests;

/// <summary>
/// Fills the filesystem of a directory (a tmpfs the test mounted) with one
/// file, written as root until the filesystem says ENOSPC; disposing removes
/// the file: the space is freed.
/// </summary>
public sealed class DiskFiller : IDisposable
{
    private readonly string _file;

    private DiskFiller(string file) => _file = file;

    public static DiskFiller Fill(string dir)
    {
        var file = Path.Combine(dir, "fault-filler");
        using SafeFileHandle handle = File.OpenHandle(file, FileMode.Create, FileAccess.Write);
        long offset = 0;
        foreach (var size in new[] { 1 << 20, 4096, 512 })
        {
            var chunk = new byte[size];
            for (var i = 0; i < 1 << 20; i++) // bounded: far more than any test's filesystem holds
            {
                try { RandomAccess.Write(handle, chunk, offset); }
                catch (IOException) { break; }
                offset += size;
            }
        }
        return new DiskFiller(file);
    }

    public void Dispose() => File.Delete(_file);
}
