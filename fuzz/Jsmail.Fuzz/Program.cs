using SharpFuzz;

namespace Jsmail.Fuzz;

/// <summary>
/// <c>Jsmail.Fuzz HARNESS</c>: one afl-fuzz target (SharpFuzz's fork server,
/// input on stdin). <c>Jsmail.Fuzz HARNESS FILE...</c>: runs the harness over
/// the files in-process and says which fail (crash triage).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Harness.All.TryGetValue(args[0], out var harness))
        {
            Console.Error.WriteLine($"usage: Jsmail.Fuzz HARNESS [FILE...]; harnesses: {string.Join(' ', Harness.All.Keys)}");
            return 100;
        }
        if (args.Length == 1)
        {
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                harness(buffer.ToArray());
            });
            return 0;
        }
        var failed = 0;
        foreach (var file in args[1..])
        {
            try { harness(File.ReadAllBytes(file)); }
            catch (Exception e) { failed++; Console.WriteLine($"{file}: {e}"); }
        }
        return failed == 0 ? 0 : 1;
    }
}
