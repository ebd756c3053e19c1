namespace Jsmail.Common.Control;

/// <summary>
/// Byte-string equality that folds only A-Z onto a-z (<see cref="AsciiCase"/>), as qmail compares host
/// names and addresses, for sets and maps keyed that way. System.Text.AsciiCase.EqualsIgnoringCase is not used because it
/// treats any byte at or above 128 as unequal, while qmail compares such bytes exactly.
/// </summary>
public sealed class AsciiCaseInsensitive : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly AsciiCaseInsensitive Instance = new();

    private AsciiCaseInsensitive() { }

    public static bool Equals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => AsciiCase.EqualsIgnoringCase(a, b);

    public static int GetHashCode(ReadOnlySpan<byte> s)
    {
        var hash = new HashCode();
        foreach (byte b in s) hash.Add(AsciiCase.Lower(b));
        return hash.ToHashCode();
    }

    bool IEqualityComparer<byte[]>.Equals(byte[]? x, byte[]? y) =>
        x is null || y is null ? ReferenceEquals(x, y) : Equals(x, y);

    int IEqualityComparer<byte[]>.GetHashCode(byte[] obj) => GetHashCode(obj);

    bool IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>.Equals(ReadOnlySpan<byte> alternate, byte[] other) =>
        Equals(alternate, other);

    int IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>.GetHashCode(ReadOnlySpan<byte> alternate) =>
        GetHashCode(alternate);

    byte[] IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>.Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
