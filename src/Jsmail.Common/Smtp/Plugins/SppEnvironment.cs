using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Plugins;

/// <summary>
/// The environment qmail-spp changes (its SMTP* variables, a plugin's S and U):
/// the one every later child inherits, plugins and the queue program alike.
/// Per connection that is the process's own, as qmail-smtpd's env_put changes
/// it; in server mode it is the session's list of entries.
/// </summary>
/// <param name="entries">the session's entries, changed in place; null: this process's environment</param>
public sealed class SppEnvironment(List<byte[]>? entries)
{
    /// <summary>What a child is given: null means this process's environment.</summary>
    public IReadOnlyList<byte[]>? Entries => entries;

    /// <summary>The value of <paramref name="name"/>; null when it is unset.</summary>
    public byte[]? Get(string name)
    {
        if (entries == null) return Libc.Getenv(name);
        var prefix = Encoding.ASCII.GetBytes(name + "=");
        for (var i = entries.Count - 1; i >= 0; i--)
            if (entries[i].AsSpan().StartsWith(prefix)) return entries[i][prefix.Length..];
        return null;
    }

    public void Set(string name, ReadOnlySpan<byte> value)
    {
        if (entries == null) { Libc.Setenv(name, value); return; }
        var nameBytes = Encoding.ASCII.GetBytes(name);
        Unset(nameBytes);
        entries.Add([.. nameBytes, (byte)'=', .. value]);
    }

    /// <summary>S: <c>NAME=value</c>. A line without '=' names no variable and changes nothing.</summary>
    public void Put(ReadOnlySpan<byte> assignment)
    {
        var eq = assignment.IndexOf((byte)'=');
        if (eq <= 0) return;
        Set(Encoding.UTF8.GetString(assignment[..eq]), assignment[(eq + 1)..]);
    }

    /// <summary>U: the variable is removed.</summary>
    public void Unset(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.IndexOf((byte)'=') >= 0) return;
        if (entries == null) { Libc.Unsetenv(Encoding.UTF8.GetString(name)); return; }
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var e = entries[i];
            if (e.Length > name.Length && e[name.Length] == (byte)'=' && e.AsSpan(0, name.Length).SequenceEqual(name))
                entries.RemoveAt(i);
        }
    }
}
