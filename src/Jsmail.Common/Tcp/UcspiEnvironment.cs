namespace Jsmail.Common.Tcp;

/// <summary>
/// An environment edited the way ucspi-tcp's programs edit the one they exec:
/// setting or unsetting a variable removes its first entry by moving the last
/// entry into its place, and a set appends the new entry at the end. Doing the
/// same keeps the child's environment in tcpserver's order, entry for entry.
/// </summary>
public sealed class UcspiEnvironment
{
    private readonly List<byte[]> _entries;

    /// <summary>Starts from <paramref name="baseEnvironment"/>'s "NAME=value" entries, in order (copied).</summary>
    public UcspiEnvironment(IEnumerable<byte[]> baseEnvironment) => _entries = [.. baseEnvironment];

    /// <summary>The entries now, for ChildRequest.Environment.</summary>
    public List<byte[]> Entries => _entries;

    /// <summary>Sets <paramref name="name"/> to <paramref name="value"/>, or unsets it when the value is null.</summary>
    public void Set(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Edit(name, value, unset: false);

    public void Set(string name, ReadOnlySpan<byte> value) => Set(System.Text.Encoding.ASCII.GetBytes(name), value);

    /// <summary>Sets the variable when <paramref name="value"/> is not null, else unsets it.</summary>
    public void SetOrUnset(string name, byte[]? value) =>
        Edit(System.Text.Encoding.ASCII.GetBytes(name), value, unset: value == null);

    public void Unset(ReadOnlySpan<byte> name) => Edit(name, [], unset: true);

    private void Edit(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool unset)
    {
        for (var i = 0; i < _entries.Count; i++)
        {
            var entry = _entries[i];
            if (entry.Length <= name.Length || entry[name.Length] != (byte)'=' || !entry.AsSpan(0, name.Length).SequenceEqual(name))
                continue;
            _entries[i] = _entries[^1];
            _entries.RemoveAt(_entries.Count - 1);
            break;
        }
        if (!unset) _entries.Add([.. name, (byte)'=', .. value]);
    }
}
