using System.Text;
using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
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

// Messages must belong to whoever owns the queue: qmailq in a privileged
// install, the invoking user in a single-user one (even when that is root).
if (QueueOwner.Of(home) is not { } queueOwner) return 111;

// qmail-getpw runs as qmailp with the nofiles group; where qmail's accounts
// do not exist (a single-user install) it runs as the invoker.
uint getpwUid = Libc.Getuid(), getpwGid = Libc.Getgid();
if (Libc.Geteuid() == 0 && Libc.GetPasswd("qmailp") is { } p && Libc.GetGroupId("nofiles") is { } nofiles)
    (getpwUid, getpwGid) = (p.Uid, nofiles);

var self = Environment.ProcessPath ?? "/proc/self/exe";
var inProcess = InProcess(home);
var fileSync = inProcess && SharedSyncs(home) ? new SharedFileSync() : FileSync.EachFile;
return new Spawner(new LocalChannel(self, home, argv[1], getpwUid, getpwGid, inProcess, fileSync), queueOwner).Run();

// Maildir and mbox deliveries made in this process unless control/localinprocess
// is 0 or qmail compatibility asks for one process per delivery, as qmail-lspawn does.
static bool InProcess(string home)
{
    if (Compat.IsQmail) return false;
    try { return new ControlReader(home).ReadInt("localinprocess", 1) != 0; }
    catch (ControlReadException) { return false; }
}

// In-process deliveries that end at the same time share one sync of their
// filesystem unless control/localsharedsync is 0: each file is then fsynced
// alone, as qmail-local does (a site whose Maildirs share a filesystem with
// heavy unrelated writes may prefer not to wait for those).
static bool SharedSyncs(string home)
{
    try { return new ControlReader(home).ReadInt("localsharedsync", 1) != 0; }
    catch (ControlReadException) { return false; }
}
