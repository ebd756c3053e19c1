using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// The environment as the C library holds it, byte for byte: .NET's own copy
/// decodes values as UTF-8 and never reaches a program started by execv.
/// qmail-inject and sendmail read names and addresses from it and hand it on.
/// </summary>
public static unsafe partial class Libc
{
    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial byte* GetenvRaw(string name);

    [LibraryImport("libc", EntryPoint = "setenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetenvRaw(string name, byte* value, int overwrite);

    [LibraryImport("libc", EntryPoint = "unsetenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unsetenv(string name);

    /// <summary>The raw value of an environment variable; null when unset (an empty value is not null).</summary>
    public static byte[]? Getenv(string name)
    {
        var p = GetenvRaw(name);
        return p == null ? null : MemoryMarshal.CreateReadOnlySpanFromNullTerminated(p).ToArray();
    }

    /// <summary>setenv(3) with a byte value; the value is cut at its first NUL, as a C string is.</summary>
    public static bool Setenv(string name, ReadOnlySpan<byte> value)
    {
        var nul = value.IndexOf((byte)0);
        if (nul >= 0) value = value[..nul];
        var buf = new byte[value.Length + 1];
        value.CopyTo(buf);
        fixed (byte* v = buf) return SetenvRaw(name, v, 1) == 0;
    }
}
