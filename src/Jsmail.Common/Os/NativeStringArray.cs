using System.Runtime.InteropServices;

namespace Jsmail.Common.Os;

/// <summary>
/// argv or envp as execve and posix_spawn take them: a NULL-terminated array of
/// NUL-terminated copies of byte strings. One native block holds the pointers
/// and the strings, so building it is one allocation and freeing it one free;
/// the block is owned by this value until <see cref="Dispose"/>.
/// </summary>
public readonly unsafe struct NativeStringArray : IDisposable
{
    /// <summary>The char** to hand to the C library; null for a default value.</summary>
    public byte** Pointer { get; }

    /// <summary>Copies <paramref name="strings"/>; a string holding a NUL ends there for the C library, as a C string does.</summary>
    public NativeStringArray(IReadOnlyList<byte[]> strings)
    {
        var pointers = (nuint)(strings.Count + 1) * (nuint)sizeof(byte*);
        var size = pointers;
        for (var i = 0; i < strings.Count; i++) size += (nuint)strings[i].Length + 1;
        var block = (byte*)NativeMemory.Alloc(size);
        var array = (byte**)block;
        var next = block + pointers;
        for (var i = 0; i < strings.Count; i++)
        {
            var s = strings[i];
            s.CopyTo(new Span<byte>(next, s.Length));
            next[s.Length] = 0;
            array[i] = next;
            next += s.Length + 1;
        }
        array[strings.Count] = null;
        Pointer = array;
    }

    /// <summary>Frees the block (free(3) leaves the errno an exec or spawn reported in place).</summary>
    public void Dispose()
    {
        if (Pointer != null) NativeMemory.Free(Pointer);
    }
}
