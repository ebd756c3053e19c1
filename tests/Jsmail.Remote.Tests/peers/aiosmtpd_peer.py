#!/usr/bin/python3
"""aiosmtpd as a real peer for jsmail-remote's tests. Config (JSON, argv[1]):
  portfile        where the chosen loopback port is written once the server listens
  out             file that receives one JSON line per message: mail_from, rcpt_tos, mail_options,
                  rcpt_options, tls (bool), auth (login or null), content (latin-1 of the bytes received)
  tls [cert,key]  offer STARTTLS with this certificate
  require_tls     refuse MAIL before STARTTLS
  users {login: password}  offer AUTH PLAIN and LOGIN (only after STARTTLS unless auth_plaintext)
  auth_plaintext  allow AUTH without TLS
  smtputf8        offer SMTPUTF8
  messages N      stop after N messages (default 1); timeout S in all (default 30)
"""
import asyncio, json, os, socket, ssl, sys, threading, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

cfg = json.load(open(sys.argv[1]))
done = threading.Event()
count = [0]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        entry = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                 "mail_options": envelope.mail_options, "rcpt_options": envelope.rcpt_options,
                 "tls": session.ssl is not None,
                 "auth": session.auth_data.login.decode("latin-1") if session.auth_data is not None else None,
                 "content": envelope.original_content.decode("latin-1")}
        with open(cfg["out"], "a") as f:
            f.write(json.dumps(entry) + "\n")
        count[0] += 1
        if count[0] >= cfg.get("messages", 1):
            done.set()
        return "250 2.0.0 stored"

def authenticator(server, session, envelope, mechanism, auth_data):
    users = cfg.get("users", {})
    ok = auth_data.login.decode() in users and users[auth_data.login.decode()] == auth_data.password.decode()
    return AuthResult(success=ok, handled=False, auth_data=auth_data)

probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()
kwargs = {}
if "tls" in cfg:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cfg["tls"][0], cfg["tls"][1])
    kwargs["tls_context"] = ctx
    kwargs["require_starttls"] = cfg.get("require_tls", False)
if "users" in cfg:
    kwargs["authenticator"] = authenticator
    kwargs["auth_require_tls"] = not cfg.get("auth_plaintext", False)
else:
    kwargs["auth_require_tls"] = False
controller = Controller(Handler(), hostname="127.0.0.1", port=port, enable_SMTPUTF8=cfg.get("smtputf8", False),
                        server_hostname="peer.test", **kwargs)
controller.start()
with open(cfg["portfile"] + ".tmp", "w") as f:
    f.write(str(port))
os.rename(cfg["portfile"] + ".tmp", cfg["portfile"])
done.wait(cfg.get("timeout", 30))
controller.stop()
