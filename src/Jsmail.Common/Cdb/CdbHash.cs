namespace Jsmail.Common.Cdb;

/// <summary>The hash function that places and finds keys in a cdb file.</summary>
public static class CdbHash
{
    /// <summary>The hash of the empty key; every hash starts from it.</summary>
    public const uint Seed = 5381;

    /// <summary>h = 5381; for each byte c: h = (h * 33) ^ c, modulo 2^32. Bytes are unsigned.</summary>
    public static uint Compute(ReadOnlySpan<byte> key)
    {
        var h = Seed;
        foreach (var c in key)
            h = unchecked((h << 5) + h) ^ c;
        return h;
    }
}
