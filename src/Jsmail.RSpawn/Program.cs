using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Common.Queue;
using Jsmail.Common.Spawn;
using Jsmail.RSpawn;

// jsmail-rspawn, a drop-in qmail-rspawn: the spawner protocol on fds 0 and 1
// (interfaces §4.1, §6.1), one qmail-remote per delivery: one recipient, or
// all of a grouped command's (docs/spawn-protocol.md).
string home;
try { home = QmailHome.Current; }
catch (InvalidOperationException) { return 111; }
if (Libc.Chdir(home) != 0 || Libc.Chdir("queue/mess") != 0) return 111;

// Messages must belong to whoever owns the queue: qmailq in a privileged
// install, the invoking user in a single-user one.
if (QueueOwner.Of(home) is not { } queueOwner) return 111;

// A fresh start forgets which hosts timed out (errors ignored, as in qmail).
using (var tcpto = OwnedFd.Open("../lock/tcpto", Libc.O_WRONLY | Libc.O_CLOEXEC, 0))
    if (tcpto.IsOpen) Libc.WriteAll(tcpto.Fd, new byte[1024]);

var explicitProgram = Libc.GetenvText("QMAILREMOTE") is { Length: > 0 };
var program = explicitProgram ? Libc.GetenvText("QMAILREMOTE")! : "qmail-remote";
var compat = Compat.IsQmail;
var parameters = compat ? null : new DeliveryEnvironment(Libc.EnvironmentEntries().ToArray());
var perProcess = new RemoteChannel(program, parameters);
ISpawnChannel channel = perProcess;
// Pooled delivery (docs/jsmail-send.md, "Pooled remote delivery") unless compat, QMAILREMOTE, a qmail-remote that is not
// jsmail's, or control/remotepool 0: then one remote program per delivery, as qmail-rspawn.
Jsmail.Common.Metrics.MetricsResponder? metricsResponder = null;
if (!compat && !explicitProgram && parameters != null && PoolSwitch.IsOn(home, program))
{
    var metrics = PoolMetricsEndpoint.Start(home, out metricsResponder);
    channel = new PooledChannel(perProcess, parameters, home, new SessionPool(PoolLimits.Read(new ControlReader(home)), metrics));
}
using var serving = metricsResponder;
// grouped commands only when jsmail-start says our reader is jsmail-send (docs/spawn-protocol.md)
return new Spawner(channel, queueOwner, offerGroups: !compat && GroupedDelivery.Offered()).Run();
