using Jsmail.Common.Cdb;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Newmrh;

/// <summary>
/// jsmail-newmrh, a drop-in qmail-newmrh (interfaces §10.4): control/morercpthosts
/// becomes control/morercpthosts.cdb, one lower-cased host a key with empty data,
/// written to control/morercpthosts.tmp, synced and renamed into place.
/// </summary>
public static class Program
{
    private const string Source = "control/morercpthosts";
    private const string Tmp = "control/morercpthosts.tmp";
    private const string Target = "control/morercpthosts.cdb";

    public static int Main()
    {
        Libc.Umask(0x1B); // 033
        try
        {
            if (Libc.Chdir(QmailHome.Current) != 0) return Fatal("unable to chdir to home directory");
        }
        catch (Exception) { return Fatal("unable to chdir to home directory"); }

        byte[] source;
        try { source = File.ReadAllBytes(Source); }
        catch (OutOfMemoryException) { return Fatal("out of memory"); }
        catch (Exception) { return Fatal("unable to read " + Source); }

        try { CdbWriter.WriteAtomically(Target, Tmp, cdb => { foreach (var host in Hosts(source)) cdb.Add(host, []); }); }
        catch (CdbAtomicWriteException e) when (e.Step == CdbAtomicWriteStep.OpenTemporary) { return Fatal("unable to open " + Tmp); }
        catch (CdbAtomicWriteException e) when (e.Step == CdbAtomicWriteStep.WriteTemporary) { return Fatal("unable to write to " + Tmp); }
        catch (CdbAtomicWriteException) { return Fatal($"unable to move {Tmp} to {Target}"); }
        catch (OutOfMemoryException) { return Fatal("out of memory"); }
        return 0;
    }

    /// <summary>Each line lower-cased, trailing spaces and tabs removed; empty and '#' lines skipped.</summary>
    public static IEnumerable<byte[]> Hosts(byte[] source)
    {
        var start = 0;
        while (start < source.Length)
        {
            var lf = Array.IndexOf(source, (byte)'\n', start);
            var end = lf < 0 ? source.Length : lf;
            var line = source.AsSpan(start, end - start);
            start = end + 1;
            while (line.Length > 0 && line[^1] is (byte)' ' or (byte)'\t') line = line[..^1];
            if (line.Length == 0 || line[0] == (byte)'#') continue;
            yield return AsciiCase.ToLower(line);
        }
    }

    private static int Fatal(string what)
    {
        Console.Error.Write($"qmail-newmrh: fatal: {what}\n");
        return 111;
    }
}
