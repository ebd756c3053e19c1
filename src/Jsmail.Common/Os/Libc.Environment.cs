using System.Runtime.InteropServices;
using System.Text;

namespace Jsmail.Common.Os;

/// <summary>
/// The environment as the C library holds it, byte for byte, and the one way
/// jsmail reads it. .NET's own view decodes values as UTF-8 (and, once written
/// to, is a copy that never reaches a program started by exec); /proc/self/environ
/// is the environment as it was at exec, and unreadable once a process changed
/// its ids. libc's environ is live (setenv shows) and readable whatever the ids.
/// </summary>
public static unsafe partial class Libc
{
    /// <summary>
    /// libc's environ, live (setenv shows). From the runtime's own System.Native,
    /// which every Native AOT program links in: looking the variable up with
    /// dlopen("libc.so.6") would, in a statically linked program, load a second
    /// libc to read it from.
    /// </summary>
    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_GetEnviron")]
    public static partial byte** Environ();

    [LibraryImport(L, EntryPoint = "setenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetenvRaw(string name, byte* value, int overwrite);

    [LibraryImport(L, EntryPoint = "unsetenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unsetenv(string name);

    /// <summary>The raw value of an environment variable; null when unset (an empty value is not null).</summary>
    public static byte[]? Getenv(string name)
    {
        for (var e = Environ(); e != null && *e != null; e++)
        {
            var entry = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(*e);
            if (IsEntryOf(entry, name)) return entry[(name.Length + 1)..].ToArray();
        }
        return null;
    }

    /// <summary>The value decoded as UTF-8 (bytes that are not become U+FFFD), for variables that hold text or numbers.</summary>
    public static string? GetenvText(string name) => Getenv(name) is { } value ? Encoding.UTF8.GetString(value) : null;

    /// <summary>Every "NAME=value" entry, in order, leaving out the variable <paramref name="without"/> when given.</summary>
    public static List<byte[]> EnvironmentEntries(string? without = null)
    {
        var list = new List<byte[]>();
        for (var e = Environ(); e != null && *e != null; e++)
        {
            var entry = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(*e);
            if (without == null || !IsEntryOf(entry, without)) list.Add(entry.ToArray());
        }
        return list;
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

    /// <summary>Whether <paramref name="entry"/> is "name=..." (names are ASCII).</summary>
    private static bool IsEntryOf(ReadOnlySpan<byte> entry, string name)
    {
        if (entry.Length <= name.Length || entry[name.Length] != (byte)'=') return false;
        for (var i = 0; i < name.Length; i++)
            if (entry[i] != name[i]) return false;
        return true;
    }
}
