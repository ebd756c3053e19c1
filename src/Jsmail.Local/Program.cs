using System.Text;
using Jsmail.Common.Local;
using Jsmail.Common.Os;

// jsmail-local, a drop-in qmail-local (interfaces §5): delivers the message on
// fd 0 as the .qmail file of user/home/local/dash/ext says, or only says what
// it would do (-n). Errors are one line on fd 2; exit 0, 100 or 111.
Libc.Umask(0x3F); // 077
LocalArgs? parsed;
try { parsed = LocalArgs.Parse(RawArgs.Read().ToArray()[1..]); }
catch (IOException) { parsed = null; }
if (parsed == null)
{
    Say(2, LocalArgs.Usage);
    return 100;
}
try
{
    return new LocalDelivery(parsed).Run();
}
catch (LocalFailure f)
{
    if (f.Message.Length > 0) Say(2, f.Message);
    return f.ExitCode;
}
catch (OutOfMemoryException)
{
    Say(2, "Out of memory. (#4.3.0)");
    return 111;
}

static void Say(int fd, string line) => Libc.WriteAll(fd, Encoding.UTF8.GetBytes(line + "\n"));
