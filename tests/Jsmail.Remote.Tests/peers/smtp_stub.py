#!/usr/bin/python3
"""A scripted SMTP peer for jsmail-remote's tests: answers each command with the
configured reply, records every byte it receives, serves a bounded number of
connections and exits. Config (JSON, argv[1]):
  listen [host, port]      port 0 picks one; the port is written to "portfile"
  record                   file that receives every byte read, connection after connection
  greeting                 first reply ("" sends nothing: a silent peer)
  replies {VERB: reply}    for EHLO HELO MAIL RCPT DATA DOT QUIT RSET NOOP; reply may hold CRLFs (multiline)
  rcpt {substring: reply}  RCPT replies chosen by the address
  hang_on VERB             stop answering from this command on (the peer hangs)
  close_on VERB            close the connection instead of answering this command
  connections N            how many connections to serve (default 1)
  timeout S                give up after S seconds in all (default 30)
"""
import json, socket, sys, time

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
replies = {"EHLO": "250 stub", "HELO": "250 stub", "MAIL": "250 ok", "RCPT": "250 ok",
           "DATA": "354 go ahead", "DOT": "250 ok 1 qp 2", "QUIT": "221 bye", "RSET": "250 ok", "NOOP": "250 ok"}
replies.update(cfg.get("replies", {}))

def serve(conn):
    conn.settimeout(max(1, deadline - time.time()))
    def send(text):
        conn.sendall(text.encode("latin-1") + b"\r\n")
    if cfg.get("greeting", "220 stub ESMTP"):
        send(cfg.get("greeting", "220 stub ESMTP"))
    buf, in_data = b"", False
    while time.time() < deadline:
        try:
            chunk = conn.recv(65536)
        except (socket.timeout, ConnectionError):
            return
        if not chunk:
            return
        if record:
            record.write(chunk); record.flush()
        buf += chunk
        while True:
            if in_data:
                end = buf.find(b"\r\n.\r\n")
                if end < 0 and buf.startswith(b".\r\n"):
                    end, skip = 0, 3
                elif end >= 0:
                    skip = end + 5
                else:
                    break
                buf, in_data, verb = buf[skip:], False, "DOT"
            else:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                line, buf = buf[:nl + 1], buf[nl + 1:]
                verb = line.split(b" ")[0].split(b":")[0].strip().upper().decode("latin-1")
            if cfg.get("close_on") == verb:
                return
            if cfg.get("hang_on") == verb:
                time.sleep(max(0, deadline - time.time())); return
            reply = replies.get(verb, "502 unimplemented")
            if verb == "RCPT":
                for pattern, r in cfg.get("rcpt", {}).items():
                    if pattern.encode("latin-1") in line:
                        reply = r
            send(reply)
            if verb == "DATA" and reply.startswith("354"):
                in_data = True
            if verb == "QUIT":
                return

for _ in range(cfg.get("connections", 1)):
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        break
    with conn:
        serve(conn)
