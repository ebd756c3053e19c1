namespace Jsmail.Common.Control;

/// <summary>
/// A list control file used as a set of names (locals, rcpthosts, percenthack,
/// badmailfrom): membership is ASCII case-insensitive.
/// </summary>
public sealed class ControlSet
{
    private readonly HashSet<byte[]> set;
    private readonly HashSet<byte[]>.AlternateLookup<ReadOnlySpan<byte>> bySpan;

    public ControlSet(IEnumerable<byte[]> entries)
    {
        set = new HashSet<byte[]>(entries, AsciiCaseInsensitive.Instance);
        bySpan = set.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Count => set.Count;

    public bool Contains(ReadOnlySpan<byte> name) => bySpan.Contains(name);

    /// <summary>
    /// qmail's rcpthosts test: the whole domain is listed, or one of its
    /// suffixes that start at a '.' (".example.com" covers every host below
    /// example.com but not example.com itself).
    /// </summary>
    public bool ContainsDomainOrSuffix(ReadOnlySpan<byte> domain)
    {
        for (int i = 0; i < domain.Length; i++)
            if ((i == 0 || domain[i] == '.') && Contains(domain[i..]))
                return true;
        return false;
    }
}
