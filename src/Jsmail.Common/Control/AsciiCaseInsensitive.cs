namespace Jsmail.Common.Control;

/// <summary>
/// Byte-string equality that folds only A-Z onto a-z, as qmail compares host
/// names and addresses. System.Text.Ascii.EqualsIgnoreCase is not used because it
/// treats any byte at or above 128 as unequal, while qmail compares such bytes exactly.
/// </summary>
public sealed class AsciiCaseInsensitive : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly AsciiCaseInsensitive Instance = new();

    private AsciiCaseInsensitive() { }

    public static bool Equals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (Fold(a[i]) != Fold(b[i])) return false;
        return true;
    }

    public static int GetHashCode(ReadOnlySpan<byte> s)
    {
        var hash = new HashCode();
        foreach (byte b in s) hash.Add(Fold(b));
        return hash.ToHashCode();
    }

    private static byte Fold(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    bool IEqualityComparer<byte[]>.Equals(byte[]? x, byte[]? y) =>
        x is null || y is null ? ReferenceEquals(x, y) : Equals(x, y);

    int IEqualityComparer<byte[]>.GetHashCode(byte[] obj) => GetHashCode(obj);

    bool IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>.Equals(ReadOnlySpan<byte> alternate, byte[] other) =>
        Equals(alternate, other);

    int IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>.GetHashCode(ReadOnlySpan<byte> alternate) =>
        GetHashCode(alternate);

    byte[] IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>.Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
