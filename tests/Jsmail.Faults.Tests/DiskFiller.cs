using Microsoft.Win32.SafeHandles;

namespace Jsmail.Faults.Tests;

/// <summary>
/// Fills the filesystem of a directory (a tmpfs the test mounted) with one
/// file, written as root until the filesystem says ENOSPC, and keeps it full
/// while it lives: what a program frees (jsmail-send's cleanup removes files at
/// its start) is taken again within a moment, or a bounce would find room
/// and the full disk would go unseen. Disposing removes the file: the space is freed.
/// </summary>
public sealed class DiskFiller : IDisposable
{
    private readonly string _file;
    private readonly SafeFileHandle _handle;
    private long _offset;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _topping;

    private DiskFiller(string file)
    {
        _file = file;
        _handle = File.OpenHandle(file, FileMode.Create, FileAccess.Write);
        TopUp(1 << 20);
        _topping = new Thread(() =>
        {
            while (!_stop.Token.WaitHandle.WaitOne(50)) TopUp(4096);
        }) { IsBackground = true, Name = "disk filler" };
        _topping.Start();
    }

    public static DiskFiller Fill(string dir) => new(Path.Combine(dir, "fault-filler"));

    /// <summary>Writes chunks from <paramref name="largest"/> down to 512 bytes until each meets ENOSPC (bounded).</summary>
    private void TopUp(int largest)
    {
        for (var size = largest; size >= 512; size = size > 4096 ? 4096 : size / 8)
        {
            var chunk = new byte[size];
            for (var i = 0; i < 1 << 20; i++) // bounded: far more than any test's filesystem holds
            {
                try { RandomAccess.Write(_handle, chunk, _offset); }
                catch (IOException) { break; }
                _offset += size;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _topping.Join();
        _handle.Dispose();
        File.Delete(_file);
    }
}
