using System.Diagnostics;
using System.Text;
using Jsmail.Common.Os;

// jsmail-bench: start-up and throughput figures, always against a baseline
// measured in the same run. Usage:
//   jsmail-bench startup <hello> <program> <message> <envelope> [runs] [-- program args]
//   jsmail-bench sequential <program> <message> <envelope> [count] [-- program args]
//   jsmail-bench compare <runs> <spec file>
//     runs every program of the spec file once per round, each round starting one
//     line further on and every other round in reverse, so no program always runs
//     right after the same other one; prints per label the median, first and third
//     quartile (ms) of the wall time, then of the child's CPU time. A spec line: label TAB message TAB envelope TAB program [TAB arg]...
//   jsmail-bench fill <queue dir> <count> <sender> <recipient[,recipient...]> [trigger every] [message file]
//     queues count messages from this one process by the commit protocol
//     (tests/Jsmail.TestQueue/QueueFiller.cs), without fsyncs: a backlog made fast;
//     each to every recipient of the comma-separated list, with the message file's
//     bytes (default a three-line message)
//   jsmail-bench fill-preprocessed <queue dir> <count> <sender> <recipient[,recipient...]>
//     queues count messages as jsmail-todo leaves them for remote delivery (mess/,
//     info/, remote/; no todo/), for a queue filled while jsmail-send is stopped
// Programs run through posix_spawn with the message on fd 0 and the envelope on fd 1
// (a program that writes, such as jsmail-inject -n, gets /dev/null there).

var dash = Array.IndexOf(args, "--");
string[] programArgs = dash < 0 ? [] : args[(dash + 1)..];
if (dash >= 0) args = args[..dash];
if (args.Length < 1) return Usage();
switch (args[0])
{
    case "startup" when args.Length >= 5:
    {
        var runs = args.Length > 5 ? int.Parse(args[5]) : 300;
        // Interleave the two so that drift in machine load hits both alike.
        var hello = new List<double>();
        var program = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            hello.Add(Time(args[1], null, null, [], out _));
            program.Add(Time(args[2], args[3], args[4], programArgs, out _));
        }
        var h = Median(hello);
        var p = Median(program);
        Console.WriteLine($"runs {runs}");
        Console.WriteLine($"aot-hello median {h:F3} ms");
        Console.WriteLine($"{Path.GetFileName(args[2])} median {p:F3} ms");
        Console.WriteLine($"ratio {p / h:F2}x");
        return 0;
    }
    case "compare" when args.Length == 3:
    {
        var runs = int.Parse(args[1]);
        var specs = File.ReadAllLines(args[2]).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToArray();
        var walls = specs.Select(_ => new List<double>()).ToArray();
        var cpus = specs.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < runs; round++)
            for (var k = 0; k < specs.Length; k++)
            {
                var i = (round + (round % 2 == 0 ? k : specs.Length - 1 - k)) % specs.Length;
                walls[i].Add(Time(specs[i][3], specs[i][1], specs[i][2], specs[i][4..], out var cpu));
                cpus[i].Add(cpu);
            }
        for (var i = 0; i < specs.Length; i++)
        {
            walls[i].Sort();
            cpus[i].Sort();
            Console.WriteLine($"{specs[i][0]} {Quantile(walls[i], 0.5):F3} {Quantile(walls[i], 0.25):F3} {Quantile(walls[i], 0.75):F3}" +
                              $" {Quantile(cpus[i], 0.5):F3} {Quantile(cpus[i], 0.25):F3} {Quantile(cpus[i], 0.75):F3}");
        }
        return 0;
    }
    case "sequential" when args.Length >= 4:
    {
        var count = args.Length > 4 ? int.Parse(args[4]) : 2000;
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < count; i++) Time(args[1], args[2], args[3], programArgs, out _);
        sw.Stop();
        Console.WriteLine($"{count} messages in {sw.Elapsed.TotalSeconds:F2} s: {count / sw.Elapsed.TotalSeconds:F1} msgs/s");
        return 0;
    }
    case "fill" when args.Length >= 5:
    {
        var count = int.Parse(args[2]);
        var every = args.Length > 5 ? int.Parse(args[5]) : 1000;
        var filler = new Jsmail.TestQueue.QueueFiller(args[1]);
        var message = args.Length > 6 ? File.ReadAllBytes(args[6]) : "Subject: bench\n\nbody\n"u8.ToArray();
        var sender = Encoding.UTF8.GetBytes(args[3]);
        var recipients = args[4].Split(',').Select(Encoding.UTF8.GetBytes).ToArray();
        var sw = Stopwatch.StartNew();
        for (var i = 1; i <= count; i++)
        {
            filler.Add(message, sender, recipients);
            if (i % every == 0) filler.PullTrigger();
        }
        filler.PullTrigger();
        Console.WriteLine($"queued {count} in {sw.Elapsed.TotalSeconds:F2} s: {count / sw.Elapsed.TotalSeconds:F0} msgs/s");
        return 0;
    }
    case "fill-preprocessed" when args.Length == 5:
    {
        var count = int.Parse(args[2]);
        var filler = new Jsmail.TestQueue.QueueFiller(args[1]);
        var sender = Encoding.UTF8.GetBytes(args[3]);
        var recipients = args[4].Split(',').Select(Encoding.UTF8.GetBytes).ToArray();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < count; i++) filler.AddPreprocessed("Subject: bench\n\nbody\n"u8, sender, recipients);
        Console.WriteLine($"queued {count} preprocessed in {sw.Elapsed.TotalSeconds:F2} s");
        return 0;
    }
    default:
        return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: jsmail-bench startup HELLO PROGRAM MESSAGE ENVELOPE [RUNS] [-- ARGS] | sequential PROGRAM MESSAGE ENVELOPE [COUNT] [-- ARGS]" +
                            " | compare RUNS SPECFILE" +
                            " | fill QUEUE COUNT SENDER RECIPIENT[,RECIPIENT...] [TRIGGER-EVERY] [MESSAGE-FILE]");
    return 100;
}

/// <summary>Runs program once; returns its wall time and, in cpuMs, its user plus system CPU time.</summary>
static double Time(string program, string? stdin, string? fd1, string[] programArgs, out double cpuMs)
{
    var inFd = stdin == null ? Libc.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0) : Libc.Open(stdin, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
    var outFd = Libc.Open(fd1 ?? "/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0); // the envelope is read; hello writes
    inFd = Libc.MoveHigh(inFd);
    outFd = Libc.MoveHigh(outFd);
    var start = Stopwatch.GetTimestamp();
    var argv = new[] { program }.Concat(programArgs).Select(Encoding.UTF8.GetBytes).ToList();
    var pid = PosixSpawn.Start(program, argv, null, [(0, inFd), (1, outFd)]);
    Libc.WaitpidWithCpu(pid, out var status, out cpuMs);
    var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    Libc.Close(inFd);
    Libc.Close(outFd);
    if (!Libc.Exited(status) || Libc.ExitCode(status) != 0)
        throw new InvalidOperationException($"{program} failed: status {status}");
    return ms;
}

static double Median(List<double> xs)
{
    xs.Sort();
    return xs[xs.Count / 2];
}

static double Quantile(List<double> sorted, double q) => sorted[(int)(q * (sorted.Count - 1))];
