#!/usr/bin/python3
"""A scripted SMTP peer for jsmail-remote's tests: answers each command with the
configured reply, records every byte it receives, serves a bounded number of
connections and exits. Config (JSON, argv[1]):
  listen [host, port]      port 0 picks one; the port is written to "portfile"
  record                   file that receives every byte read (after STARTTLS: decrypted), connection after connection
  transcript               file of "C: line" / "S: reply" entries in the order they happened
  greeting                 first reply ("" sends nothing: a silent peer)
  replies {VERB: reply}    for EHLO HELO MAIL RCPT DATA DOT BDAT QUIT RSET NOOP STARTTLS AUTH; reply may hold CRLFs (multiline);
                           BDAT answers a chunk before the last, DOT the message's end (DATA's dot, or BDAT ... LAST)
  finals [reply...]        the replies to the message's end, in turn over the stub's life (then DOT's)
  rcptmax N                RCPTs past N in a transaction get "452 4.5.3 too many recipients"
  mailmax N                MAILs past N on a connection get "451 4.5.3 too many messages"
  rcpt {substring: reply}  RCPT replies chosen by the address
  ehlo_tls reply           the EHLO reply after STARTTLS (default: the EHLO reply)
  tls [cert, key]          STARTTLS answered 220 is followed by a real TLS handshake with this certificate
  tls_garbage              STARTTLS answered 220 is followed by plain bytes and a close: a broken handshake
  auth_steps [reply...]    replies to the lines following an AUTH command answered 334, in turn
  hold S                   replies wait until no command has arrived for S seconds, then go out together:
                           a client that pipelines shows all its commands before the first reply
  hang_on VERB             stop answering from this command on (the peer hangs)
  close_on VERB            close the connection instead of answering this command (DOT: the message's end);
                           VERB#N: only its Nth on a connection
  nth {VERB#N: reply}      the reply to the Nth such command on a connection
  DATA with no RCPT accepted since MAIL gets "554 5.5.1 no valid recipients" (as Postfix answers a pipelined
  DATA), unless data_354_anyway is set (a peer RFC 2920 3.1 warns of: the client must end the message at once)
BDAT <n> [LAST] is read as RFC 3030 says: the command line, then exactly n bytes of
chunk (recorded, never parsed as commands); the transcript shows the command line.
  connections N            how many connections to serve (default 1)
  timeout S                give up after S seconds in all (default 30)
  clients                  file that receives each connecting client's address, a line each
"""
import json, select, socket, ssl, sys, time

cfg = json.load(open(sys.argv[1]))
deadline = time.time() + cfg.get("timeout", 30)
srv = socket.socket(socket.AF_INET6 if ":" in cfg["listen"][0] else socket.AF_INET)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((cfg["listen"][0], cfg["listen"][1]))
srv.listen(8)
srv.settimeout(max(1, deadline - time.time()))
if "portfile" in cfg:
    with open(cfg["portfile"] + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    import os; os.rename(cfg["portfile"] + ".tmp", cfg["portfile"])
record = open(cfg["record"], "ab") if "record" in cfg else None
transcript = open(cfg["transcript"], "a", encoding="latin-1") if "transcript" in cfg else None
replies = {"EHLO": "250 stub", "HELO": "250 stub", "MAIL": "250 ok", "RCPT": "250 ok",
           "DATA": "354 go ahead", "DOT": "250 ok 1 qp 2", "QUIT": "221 bye", "RSET": "250 ok", "NOOP": "250 ok",
           "STARTTLS": "220 ready", "AUTH": "235 ok"}
replies.update(cfg.get("replies", {}))
finals = list(cfg.get("finals", []))

def log(entry):
    if transcript:
        transcript.write(entry + "\n"); transcript.flush()

def chunk_reply(last):
    """The reply to a chunk whose bytes are in; None: close instead (close_on)."""
    verb = "DOT" if last else "BDAT"
    if cfg.get("close_on") == verb:
        return None
    return finals.pop(0) if last and finals else replies.get(verb, "250 2.0.0 chunk ok")

def serve(conn):
    conn.settimeout(max(1, deadline - time.time()))
    pending = []
    def send(text):
        pending.append(text)
    def flush():
        for text in pending:
            log("S: " + text.split("\r\n")[0])
            conn.sendall(text.encode("latin-1") + b"\r\n")
        pending.clear()
    if cfg.get("greeting", "220 stub ESMTP"):
        send(cfg.get("greeting", "220 stub ESMTP")); flush()
    buf, in_data, tls_on, auth_left = b"", False, False, []
    chunk_left, chunk_last, rcpts, mails, accepted, seen = 0, False, 0, 0, 0, {}
    while time.time() < deadline:
        if cfg.get("hold") and pending:
            ready, _, _ = select.select([conn], [], [], cfg["hold"]) if not tls_on or not conn.pending() else ([conn], [], [])
            if not ready:
                flush()
                continue
        try:
            chunk = conn.recv(65536)
        except (socket.timeout, ConnectionError, ssl.SSLError):
            return
        if not chunk:
            return
        if record:
            record.write(chunk); record.flush()
        buf += chunk
        while True:
            if chunk_left:
                take = min(chunk_left, len(buf))
                buf, chunk_left = buf[take:], chunk_left - take
                if chunk_left:
                    break
                reply = chunk_reply(chunk_last)
                if reply is None:
                    return
                send(reply)
                continue
            if in_data:
                end = buf.find(b"\r\n.\r\n")
                if end < 0 and buf.startswith(b".\r\n"):
                    end, skip = 0, 3
                elif end >= 0:
                    skip = end + 5
                else:
                    break
                buf, in_data, verb, line = buf[skip:], False, "DOT", b"."
            else:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                line, buf = buf[:nl + 1], buf[nl + 1:]
                verb = line.split(b" ")[0].split(b":")[0].strip().upper().decode("latin-1")
            log("C: " + line.rstrip(b"\r\n").decode("latin-1"))
            if verb == "BDAT":
                words = line.split()
                chunk_left, chunk_last = int(words[1]), len(words) > 2 and words[2].upper() == b"LAST"
                if chunk_left == 0:  # an empty chunk is over at once
                    reply = chunk_reply(chunk_last)
                    if reply is None:
                        return
                    send(reply)
                continue
            if auth_left:
                send(auth_left.pop(0)); continue
            seen[verb] = seen.get(verb, 0) + 1
            nth = "%s#%d" % (verb, seen[verb])
            if cfg.get("close_on") in (verb, nth):
                return
            if cfg.get("hang_on") == verb:
                flush(); time.sleep(max(0, deadline - time.time())); return
            reply = replies.get(verb, "502 unimplemented")
            if verb == "DOT" and finals:
                reply = finals.pop(0)
            if verb in ("MAIL", "RSET"):
                accepted = 0
            if verb == "DATA" and not accepted and not cfg.get("data_354_anyway"):
                reply = "554 5.5.1 no valid recipients"
            if verb == "MAIL":
                mails, rcpts = mails + 1, 0
                if cfg.get("mailmax") and mails > cfg["mailmax"]:
                    reply = "451 4.5.3 too many messages"
            if verb == "RCPT":
                rcpts += 1
            if verb == "EHLO" and tls_on and "ehlo_tls" in cfg:
                reply = cfg["ehlo_tls"]
            if verb == "RCPT":
                for pattern, r in cfg.get("rcpt", {}).items():
                    if pattern.encode("latin-1") in line:
                        reply = r
                if cfg.get("rcptmax") and rcpts > cfg["rcptmax"]:
                    reply = "452 4.5.3 too many recipients"
            reply = cfg.get("nth", {}).get(nth, reply)
            if verb == "RCPT" and reply.startswith("2"):
                accepted += 1
            send(reply)
            if verb == "AUTH" and reply.startswith("334"):
                auth_left = list(cfg.get("auth_steps", []))
            if verb == "DATA" and reply.startswith("354"):
                in_data = True
                flush()
            if verb == "STARTTLS" and reply.startswith("220"):
                flush()
                if cfg.get("tls_garbage"):
                    conn.sendall(b"this is not TLS at all\r\n" * 4)
                    return
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(cfg["tls"][0], cfg["tls"][1])
                conn = ctx.wrap_socket(conn, server_side=True)
                tls_on, buf = True, b""
                log("TLS")
                break
            if verb == "QUIT":
                flush()
                return
        if not cfg.get("hold"):
            flush()

for _ in range(cfg.get("connections", 1)):
    try:
        conn, client = srv.accept()
    except socket.timeout:
        break
    if "clients" in cfg:
        with open(cfg["clients"], "a") as f:
            f.write(client[0] + "\n")
    with conn:
        serve(conn)
