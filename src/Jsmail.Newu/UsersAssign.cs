using Jsmail.Common.Control;

namespace Jsmail.Newu;

/// <summary>One users/cdb record: key and data exactly as qmail-newu stores them.</summary>
public readonly record struct AssignRecord(byte[] Key, byte[] Data);

/// <summary>
/// users/assign (qmail-users(5)) turned into users/cdb's records (interfaces
/// §10.2, §10.3): every assignment in file order, then the record with the
/// empty key holding the wildcard-terminating bytes.
/// </summary>
public static class UsersAssign
{
    /// <summary>The records, or null when the file is badly formatted.</summary>
    public static List<AssignRecord>? Parse(ReadOnlySpan<byte> file)
    {
        var records = new List<AssignRecord>();
        var wildChars = new List<byte>();
        while (true)
        {
            var nl = file.IndexOf((byte)'\n');
            var line = nl < 0 ? file : file[..nl];
            if (line.Length > 0 && line[0] == (byte)'.') break;
            if (nl < 0) return null; // no final '.' line, or a last line without LF
            file = file[(nl + 1)..];

            if (line.IndexOf((byte)0) >= 0) return null;
            var colon = line.IndexOf((byte)':');
            if (colon <= 0) return null;
            var name = line[1..colon];
            var wildcard = line[0] == (byte)'+';
            var key = new byte[1 + name.Length + (wildcard ? 0 : 1)];
            key[0] = (byte)'!';
            for (var i = 0; i < name.Length; i++) key[1 + i] = AsciiCase.Lower(name[i]);
            if (wildcard && name.Length > 0 && !wildChars.Contains(name[^1])) wildChars.Add(name[^1]);

            var data = Fields(line[(colon + 1)..]);
            if (data == null) return null;
            records.Add(new AssignRecord(key, data));
        }
        records.Add(new AssignRecord([], wildChars.ToArray()));
        return records;
    }

    /// <summary>The six fields after the key, NUL-separated, without what follows the sixth colon.</summary>
    private static byte[]? Fields(ReadOnlySpan<byte> rest)
    {
        var colons = 0;
        for (var i = 0; i < rest.Length; i++)
        {
            if (rest[i] != (byte)':') continue;
            if (++colons == 6)
            {
                var data = rest[..i].ToArray();
                for (var j = 0; j < data.Length; j++) if (data[j] == (byte)':') data[j] = 0;
                return data;
            }
        }
        return null;
    }

}
