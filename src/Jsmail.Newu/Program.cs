using Jsmail.Common.Cdb;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Newu;

// jsmail-newu, a drop-in qmail-newu: users/assign → users/cdb (interfaces §10.3).
// Every failure leaves users/cdb as it was and exits 111; system errors end
// with qmail's errno text, as qmail's strerr_sys messages do.
const string Fatal = "qmail-newu: fatal: ";

Libc.Umask(0x1B); // 033: users/cdb is 0644
string home;
try { home = QmailHome.Current; }
catch (InvalidOperationException) { return Die("unable to chdir", Errno.ENOENT); }
if (Libc.Chdir(home) != 0) return Die("unable to chdir", Libc.Errno);

byte[] assign;
var fd = Libc.Open("users/assign", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
if (fd < 0) return Die("unable to open users/assign", Libc.Errno);
try
{
    using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read);
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    assign = copy.ToArray();
}
catch (IOException e) { return Die("unable to read users/assign", ErrorText.ErrnoOf(e) ?? Errno.EIO); }
catch (OutOfMemoryException) { return Die("out of memory"); }

var badFormat = false;
try
{
    CdbWriter.WriteAtomically("users/cdb", "users/cdb.tmp", cdb =>
    {
        var records = UsersAssign.Parse(assign);
        if (records == null)
        {
            badFormat = true;
            throw new FormatException();
        }
        foreach (var r in records) cdb.Add(r.Key, r.Data);
    });
}
catch (FormatException) when (badFormat) { return Die("bad format in users/assign"); }
catch (CdbAtomicWriteException e)
{
    return Die(e.Step switch
    {
        CdbAtomicWriteStep.OpenTemporary => "unable to open users/cdb.tmp",
        CdbAtomicWriteStep.WriteTemporary => "unable to write users/cdb.tmp",
        _ => "unable to move users/cdb.tmp to users/cdb",
    }, e.InnerException is { } inner ? ErrorText.ErrnoOf(inner) ?? Errno.EIO : Errno.EIO);
}
catch (OutOfMemoryException) { return Die("out of memory"); }
return 0;

static int Die(string what, int? errno = null)
{
    Console.Error.Write(Fatal + what + (errno is { } e ? ": " + ErrorText.Describe(e) : "") + "\n");
    return 111;
}
