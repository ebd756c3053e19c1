#!/usr/bin/python3
# A test spawner speaking qmail's spawner protocol (interfaces §4.1) on fd 0/1,
# standing in for qmail-lspawn/qmail-rspawn: it answers by the recipient's
# local part and appends each delivery to <home>/delivered:
#   fail*  -> D "Sorry, no mailbox here by that name. (#5.1.1)\n"
#   defer* -> Z "temporary failure\n"
#   blank* -> K "" ; mangle* -> status byte 'Q'
#   hold*  -> K, once <home>/release exists (waits at most 30 s): a busy slot
#   else   -> K "did 1+0+0\n"
# With <home>/copies, each delivered message is copied there (and with
# <home>/rparams, its queue/rparam/ file beside, under the same number).
import os, sys, time
home = os.path.dirname(os.path.dirname(os.path.realpath(sys.argv[0])))
chan = 'L' if os.path.basename(sys.argv[0]).endswith('lspawn') else 'R'
os.write(1, bytes([120]))
try:
  with open(os.path.join(home, "argv-" + chan), "w") as f:
    f.write(repr(sys.argv[1:]))
except OSError:
  pass

buf = b''
out = os.open(os.path.join(home, 'delivered'), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
while True:
    data = os.read(0, 65536)
    if not data:
        break
    buf += data
    while len(buf) > 1 and buf.count(b'\0', 1) >= 3:
        a = buf.index(b'\0', 1); b = buf.index(b'\0', a + 1); c = buf.index(b'\0', b + 1)
        slot = buf[0:1]; mess = buf[1:a]; sender = buf[a + 1:b]; recip = buf[b + 1:c]
        buf = buf[c + 1:]
        size = os.path.getsize(os.path.join(home, 'queue', 'mess', mess.decode()))
        local = recip.rsplit(b'@', 1)[0].split(b'-')[-1] if b'@' in recip else recip
        if local.startswith(b'fail'):
            reply = b'DSorry, no mailbox here by that name. (#5.1.1)\n'
        elif local.startswith(b'defer'):
            reply = b'Ztemporary failure\n'
        elif local.startswith(b'hold'):
            for _ in range(300):
                if os.path.exists(os.path.join(home, 'release')):
                    break
                time.sleep(0.1)
            reply = b'Kdid 1+0+0\n'
        elif local.startswith(b'blank'):
            reply = b'K'
        elif local.startswith(b'mangle'):
            reply = b'Qwhatever\n'
        else:
            reply = b'Kdid 1+0+0\n'
        if reply[0:1] == b'K':
            os.write(out, b'%s %s %s %s %d\n' % (chan.encode(), mess, sender, recip, size))
            if os.path.isdir(os.path.join(home, 'copies')):
                with open(os.path.join(home, 'queue', 'mess', mess.decode()), 'rb') as m:
                    body = m.read()
                n = len([f for f in os.listdir(os.path.join(home, 'copies')) if not f.startswith('.')])
                # with <home>/rparams: the message's queue/rparam/ file too, under the copy's number,
                # written first: a test that sees the copy finds its rparam file complete
                rparam = os.path.join(home, 'queue', 'rparam', mess.decode())
                if os.path.isdir(os.path.join(home, 'rparams')) and os.path.exists(rparam):
                    with open(rparam, 'rb') as r, open(os.path.join(home, 'rparams', '%05d' % n), 'wb') as f:
                        f.write(r.read())
                # the copy appears whole (renamed into place), never half written; the dot file
                # is in copies/ (home/ may not be writable by qmailr), never counted or read as a copy
                tmp = os.path.join(home, 'copies', '.copy-%s-%d' % (chan, os.getpid()))
                with open(tmp, 'wb') as f:
                    f.write(b'%s\n%s\n' % (sender, recip) + body)
                os.rename(tmp, os.path.join(home, 'copies', '%05d' % n))
        os.write(1, slot + reply + b'\0')
