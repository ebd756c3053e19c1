using Jsmail.Common.Control;
using static Jsmail.Fuzz.Invariant;

namespace Jsmail.Fuzz.Harnesses;

/// <summary>A control file's bytes read as a line, an integer, a list, a map, and users/cdb and qmail-getpw data.</summary>
public static class ControlHarness
{
    public static void Run(byte[] data)
    {
        var line = ControlParse.Line(data);
        That(Array.IndexOf(line, (byte)'\n') < 0, "a line value has no LF");
        That(line.Length == 0 || line[^1] is not ((byte)' ' or (byte)'\t'), "a line value has no trailing blank");
        That(data.AsSpan().StartsWith(line), "a line value is the start of the file");

        var number = ControlParse.Integer(data);
        That(number.HasValue == (data.Length > 0 && data[0] is >= (byte)'0' and <= (byte)'9'), "an integer needs a leading digit");

        var list = ControlParse.List(data);
        That(list.Count <= data.Count(b => b == (byte)'\n') + 1, "no more entries than lines");
        foreach (var entry in list)
        {
            That(entry.Length > 0 && entry[0] != (byte)'#', "entries are neither empty nor comments");
            That(Array.IndexOf(entry, (byte)'\n') < 0 && entry[^1] is not ((byte)' ' or (byte)'\t'), "entries are trimmed lines");
        }
        var map = new ControlMap(list);
        That(map.Count <= list.Count, "a map has at most one value per entry");
        foreach (var entry in list)
        {
            var colon = Array.IndexOf(entry, (byte)':');
            if (colon < 0) continue;
            That(map.TryGetValue(entry.AsSpan(0, colon), out _), "every key of the list is in the map");
            map.TryGetByDomain(entry.AsSpan(0, colon), out _);
        }

        foreach (var user in new[] { UserAssignment.FromUsersCdb(data), UserAssignment.FromGetpw(data) })
        {
            if (user == null) continue;
            var fields = user.User.Length + user.Home.Length + user.Dash.Length + user.Ext.Length;
            That(fields <= data.Length, "the fields are parts of the data");
            foreach (var f in new[] { user.User, user.Home, user.Dash, user.Ext })
                That(Array.IndexOf(f, (byte)0) < 0, "no field holds a NUL");
        }
    }
}
