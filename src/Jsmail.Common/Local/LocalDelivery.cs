using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Common.Local;

/// <summary>Where qmail-local's report (fd 1) and its error line (fd 2) go.</summary>
public readonly record struct ReportFds(int Out, int Err)
{
    public static ReportFds Standard => new(1, 2);
}

/// <summary>
/// What a delivery will do, found out without changing anything: the
/// instructions of the .qmail file (or defaultdelivery) and what they need.
/// </summary>
public sealed record DeliveryPlan(List<Instruction> Instructions, bool ForwardOnly, byte[]? DefaultPart,
    byte[] NewSender, DeliveryLines Lines)
{
    /// <summary>Only files (Maildir, mbox) are written: no program is run and nothing is forwarded.</summary>
    public bool WritesFilesOnly
    {
        get
        {
            foreach (var i in Instructions)
                if (i.Kind is InstructionKind.Program or InstructionKind.Forward) return false;
            return true;
        }
    }
}

/// <summary>
/// qmail-local's run, in its order (interfaces §5.2–§5.12): <see cref="Prepare"/>
/// reads (home, loop check, .qmail search), <see cref="Deliver"/> acts. jsmail-local
/// runs both; jsmail-lspawn runs them from a thread that has become the
/// recipient, with the message and the report on other descriptors.
/// </summary>
public sealed class LocalDelivery(LocalArgs a, MessageFile message, ReportFds output)
{
    /// <summary>qmail's conf-patrn: group and other must not be able to write.</summary>
    public const uint Patrn = 0x2;
    private const uint Sticky = 0x200, OwnerExecute = 0x40;
    public const int DefaultProgramTimeout = 86400;

    private int _files, _forwards, _programs;

    /// <summary>How Maildir and mbox files are made durable: fsync each, unless jsmail-lspawn's threads share syncs.</summary>
    public FileSync FileSync { get; init; } = FileSync.EachFile;

    public LocalDelivery(LocalArgs a) : this(a, new MessageFile(), ReportFds.Standard) { }

    public int Run() => Deliver(Prepare());

    /// <summary>Everything before the first instruction runs; the working directory becomes the home.</summary>
    public DeliveryPlan Prepare()
    {
        // the bytes qmail-local gets, whatever their encoding; the string only names it in the error
        if (Libc.Chdir(a.Home) != 0)
            throw LocalFailure.Temporary($"Unable to switch to {Home}: {ErrorText.Describe(Libc.Errno)}. (#4.3.0)");
        CheckHome();

        var lines = new DeliveryLines(a, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), utf8: !Compat.IsQmail);
        if (a.Deliver && message.HasHeaderLine(lines.DtLine))
            throw LocalFailure.Permanent("This message is looping: it already has my Delivered-To line. (#5.4.6)");

        var (content, forwardOnly, defaultPart) = FindDotQmail();
        var newSender = NewSender();
        if (content.Length == 0)
        {
            content = a.DefaultDelivery;
            forwardOnly = false;
        }
        return new DeliveryPlan(DotQmail.Parse(content), forwardOnly, defaultPart, newSender, lines);
    }

    /// <summary>Runs the instructions, forwards, and writes the "did" report; returns the exit code (0).</summary>
    public int Deliver(DeliveryPlan plan)
    {
        var forwardOnly = plan.ForwardOnly;
        var forwards = new List<byte[]>();
        List<byte[]>? environment = null;
        var first = true;
        foreach (var instruction in plan.Instructions)
        {
            var wasFirst = first;
            first = false;
            if (instruction.Kind == InstructionKind.Program) environment ??= ProgramEnvironment(plan);
            if (Execute(instruction, wasFirst, ref forwardOnly, forwards, plan.Lines, environment) ==
                ProgramDelivery.Outcome.Stop)
                break;
        }

        var qp = 0;
        if (a.Deliver && forwards.Count > 0)
            qp = Forwarder.Forward(QmailHomeForForwarding(), message, plan.Lines, plan.NewSender, forwards);
        var report = $"did {_files}+{_forwards}+{_programs}\n" + (qp > 0 ? $"qp {qp}\n" : "");
        Libc.WriteAll(output.Out, Encoding.ASCII.GetBytes(report));
        return 0;
    }

    private string Home => Encoding.UTF8.GetString(a.Home);

    /// <summary>The inherited environment with §5.3's variables, DEFAULT and NEWSENDER.</summary>
    private List<byte[]> ProgramEnvironment(DeliveryPlan plan)
    {
        var env = plan.Lines.Environment(a);
        if (plan.DefaultPart != null) env.Add(("DEFAULT", plan.DefaultPart));
        env.Add(("NEWSENDER", plan.NewSender));
        return DeliveryLines.Merge(Libc.EnvironmentEntries(), env, plan.DefaultPart == null ? ["DEFAULT"] : []);
    }

    private ProgramDelivery.Outcome Execute(Instruction i, bool first, ref bool forwardOnly, List<byte[]> forwards,
        DeliveryLines lines, List<byte[]>? environment)
    {
        switch (i.Kind)
        {
            case InstructionKind.Blank when first:
                throw LocalFailure.Temporary("Uh-oh: first line of .qmail file is blank. (#4.2.1)");
            case InstructionKind.Maildir or InstructionKind.Mbox:
                _files++;
                if (forwardOnly) throw LocalFailure.Temporary("Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)");
                var maildir = i.Kind == InstructionKind.Maildir;
                if (!a.Deliver) Print(maildir ? "maildir " : "mbox ", i.Argument);
                else if (maildir) MaildirDelivery.Deliver(i.Argument, a.Home, message, lines, FileSync);
                else MboxDelivery.Deliver(i.Argument, message, lines, FileSync);
                break;
            case InstructionKind.Program:
                _programs++;
                if (forwardOnly) throw LocalFailure.Temporary("Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)");
                if (!a.Deliver) Print("program ", i.Argument);
                else return ProgramDelivery.Run(i.Argument, message, output, environment!, ProgramTimeout());
                break;
            case InstructionKind.ListMode:
                forwardOnly = true;
                break;
            case InstructionKind.Forward:
                _forwards++;
                if (!a.Deliver) Print("forward ", i.Argument);
                else forwards.Add(i.Argument);
                break;
        }
        return ProgramDelivery.Outcome.Continue;
    }

    private void CheckHome()
    {
        if (Libc.StatPath(".", out var st) != 0)
            throw LocalFailure.Temporary($"Unable to stat home directory: {ErrorText.Describe(Libc.Errno)}. (#4.3.0)");
        if ((st.Mode & Patrn) != 0) throw LocalFailure.Temporary("Uh-oh: home directory is writable. (#4.7.0)");
        if ((st.Mode & Sticky) == 0) return;
        if (a.Deliver) throw LocalFailure.Temporary("Home directory is sticky: user is editing his .qmail file. (#4.2.1)");
        Libc.WriteAll(output.Err, "Warning: home directory is sticky.\n"u8);
    }

    /// <summary>The .qmail contents (empty when none is needed), forward-only mode, and DEFAULT.</summary>
    private (byte[] Content, bool ForwardOnly, byte[]? Default) FindDotQmail()
    {
        foreach (var c in DotQmail.Candidates(a.Dash, a.Ext))
        {
            var fd = Libc.Open(c.Name, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0)
            {
                var errno = Libc.Errno;
                if (ErrorText.IsTemporary(errno) || errno is Errno.EPERM or Errno.EACCES)
                    throw LocalFailure.Temporary($"Unable to open {Show(c.Name)}: {ErrorText.Describe(errno)}. (#4.3.0)");
                continue;
            }
            using var fdOwner = new OwnedFd(fd);
            if (Libc.Fstat(fd, out var st) != 0)
                throw LocalFailure.Temporary($"Unable to open {Show(c.Name)}: {ErrorText.Describe(Libc.Errno)}. (#4.3.0)");
            if (!st.IsRegular) continue;
            if ((st.Mode & Patrn) != 0) throw LocalFailure.Temporary("Uh-oh: .qmail file is writable. (#4.7.0)");
            return (ReadAll(fd, c.Name), (st.Mode & OwnerExecute) != 0, c.Default);
        }
        if (a.Dash.Length > 0) throw LocalFailure.Permanent("Sorry, no mailbox here by that name. (#5.1.1)");
        return ([], false, null);
    }

    private static byte[] ReadAll(int fd, byte[] name)
    {
        var o = new List<byte>();
        var buf = new byte[8192];
        while (true)
        {
            var n = Libc.Read(fd, buf);
            if (n == 0) return o.ToArray();
            if (n < 0) throw LocalFailure.Temporary($"Unable to read {Show(name)}: {ErrorText.Describe(Libc.Errno)}. (#4.3.0)");
            o.AddRange(buf.AsSpan(0, n));
        }
    }

    private byte[] NewSender()
    {
        if (a.Sender.Length == 0 || a.Sender.AsSpan().SequenceEqual("#@[]"u8)) return a.Sender;
        var (owner, ownerDefault) = DotQmail.OwnerFiles(a.Dash, a.Ext);
        if (!Exists(owner)) return a.Sender;
        return Exists(ownerDefault)
            ? [.. a.Local, .. "-owner-@"u8, .. a.Domain, .. "-@[]"u8]
            : [.. a.Local, .. "-owner@"u8, .. a.Domain];
    }

    private static bool Exists(byte[] name)
    {
        if (Libc.StatPath(name, out _) == 0) return true;
        var errno = Libc.Errno;
        if (ErrorText.IsTemporary(errno))
            throw LocalFailure.Temporary($"Unable to stat {Show(name)}: {ErrorText.Describe(errno)}. (#4.3.0)");
        return false;
    }

    /// <summary>control/timeoutlocal bounds a program delivery (beyond qmail, which waits for ever).</summary>
    private static int ProgramTimeout()
    {
        if (Compat.IsQmail) return 0;
        try { return (int)Math.Min(new ControlReader(QmailHome.Current).ReadInt("timeoutlocal", DefaultProgramTimeout), int.MaxValue / 1000); }
        catch (Exception e) when (e is ControlReadException or InvalidOperationException) { return DefaultProgramTimeout; }
    }

    private static string QmailHomeForForwarding()
    {
        try { return QmailHome.Current; }
        catch (InvalidOperationException) { throw LocalFailure.Temporary("Unable to forward message: qq trouble in home directory (#4.3.0)."); }
    }

    private void Print(string what, byte[] argument) =>
        Libc.WriteAll(output.Out, [.. Encoding.ASCII.GetBytes(what), .. argument, (byte)'\n']);

    private static string Show(byte[] name) => Encoding.UTF8.GetString(name);
}
