#!/usr/bin/python3
"""The remote peer of the fault matrix: an SMTP server on loopback (asyncio,
any number of sessions at once) that keeps every message it accepts and what
became of its reply.

  fault_peer.py DIR PORTFILE

Each accepted transaction is written to DIR/msg/<n> (through a rename, before
the 250 goes out) and gets a line "<n> acked" in DIR/acks once the client sends
another command after the 250 (RSET, MAIL, QUIT: it read the reply); a message
without that line is one whose client was cut between the final dot and
reading the reply, the one case where qmail's rules allow a second copy.
RCPT to a local part starting with "reject" is refused 550. While the file
DIR/stall exists, a transaction stops reading in the middle of its DATA and
holds the connection open until the client gives up (a stalled peer).
DIR/transcript has every line each way, with its session and time.
"""
import asyncio, os, sys, time

base, portfile = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(base, "msg"), exist_ok=True)
acks = open(os.path.join(base, "acks"), "a")
# every command and reply line with its session and time: what a failed verdict is read against
transcript = open(os.path.join(base, "transcript"), "a")
counter = 0
sessions = 0


def note(sid, direction, line):
    transcript.write(f"{time.time():.3f} {sid} {direction} {line!r}\n")
    transcript.flush()


async def session(reader, writer):
    global counter, sessions
    sessions += 1
    sid = sessions
    unacked = None

    async def reply(text):
        note(sid, "<", text)
        writer.write(text.encode() + b"\r\n")
        await writer.drain()

    try:
        await reply("220 faultpeer ESMTP")
        rcpts = 0
        while True:
            line = await asyncio.wait_for(reader.readline(), 300)
            note(sid, ">", line)
            if not line:
                return
            if unacked is not None:
                acks.write(f"{unacked} acked\n")
                acks.flush()
                unacked = None
            verb = line.split(b" ")[0].split(b":")[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                await reply("250 faultpeer")
            elif verb == b"MAIL":
                rcpts = 0
                await reply("250 ok")
            elif verb == b"RCPT":
                local = line.split(b":", 1)[1].strip().lstrip(b"<").lower()
                if local.startswith(b"reject"):
                    await reply("550 5.1.1 no such user here")
                else:
                    rcpts += 1
                    await reply("250 ok")
            elif verb == b"DATA":
                if rcpts == 0:
                    await reply("554 no valid recipients")
                    continue
                await reply("354 go ahead")
                data = []
                while True:
                    chunk = await asyncio.wait_for(reader.readline(), 300)
                    if not chunk:
                        note(sid, ">", b"EOF in DATA")
                        return
                    if os.path.exists(os.path.join(base, "stall")):
                        # stop reading mid-DATA: the client times out and closes
                        while await reader.read(65536):
                            pass
                        return
                    if chunk == b".\r\n":
                        break
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                counter += 1
                n = f"{os.getpid()}.{counter}"
                tmp = os.path.join(base, "msg", "." + n)
                with open(tmp, "wb") as f:
                    f.write(b"".join(data))
                os.rename(tmp, os.path.join(base, "msg", n))
                unacked = n
                note(sid, ">", f"message {n}")
                await reply("250 ok " + n)
            elif verb == b"RSET":
                await reply("250 ok")
            elif verb == b"NOOP":
                await reply("250 ok")
            elif verb == b"QUIT":
                await reply("221 bye")
                return
            else:
                await reply("502 unimplemented")
    except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        pass
    finally:
        note(sid, "-", "closed")
        writer.close()


async def main():
    server = await asyncio.start_server(session, "127.0.0.1", 0, limit=1 << 20)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    async with server:
        await server.serve_forever()

asyncio.run(main())
