using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Spawn;
using Jsmail.LSpawn;

// jsmail-lspawn, a drop-in qmail-lspawn: `qmail-lspawn defaultdelivery`, run
// by qmail-start as root, speaking the spawner protocol on fds 0 and 1
// (interfaces §4). Without root (a single-user install) every delivery runs as
// the invoking user.
var argv = RawArgs.Read().ToArray();
string home;
try { home = QmailHome.Current; }
catch (InvalidOperationException) { return 111; }

if (argv.Length >= 2 && Encoding.ASCII.GetString(argv[1]) == LocalChannel.ChildMarker)
{
    try { return DeliveryChild.Run(home, argv[2..]); }
    catch (OutOfMemoryException) { return LspawnExit.NoMemory; }
}

if (argv.Length < 2) return 100;
if (Libc.Chdir(home) != 0 || Libc.Chdir("queue/mess") != 0) return 111;

uint queueOwner, getpwUid, getpwGid;
if (Libc.Geteuid() == 0 || Compat.IsQmail)
{
    if (Libc.GetPasswd("qmailq") is not { } q || Libc.GetPasswd("qmailp") is not { } p ||
        Libc.GetGroupId("nofiles") is not { } nofiles)
        return 111;
    (queueOwner, getpwUid, getpwGid) = (q.Uid, p.Uid, nofiles);
}
else
{
    (queueOwner, getpwUid, getpwGid) = (Libc.Getuid(), Libc.Getuid(), Libc.Getgid());
}

var self = Environment.ProcessPath ?? "/proc/self/exe";
return new Spawner(new LocalChannel(self, argv[1], getpwUid, getpwGid), queueOwner).Run();
