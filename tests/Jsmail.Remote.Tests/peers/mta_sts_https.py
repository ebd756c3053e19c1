#!/usr/bin/python3
"""An HTTPS server for MTA-STS policies in jsmail-remote's tests. Config (JSON, argv[1]):
  listen [host, port]   where to listen (port 443 needs root, which the tests have)
  cert, key             the server's certificate chain and key (PEM)
  root                  directory: a GET of /PATH for Host NAME serves ROOT/NAME/PATH
  log                   file that receives "NAME PATH" for every request, a line each
  readyfile             written once the server listens
  timeout               seconds to serve in all (default 60)
A file ROOT/NAME/PATH.type, when present, holds the Content-Type to send (default text/plain);
a file ROOT/NAME/PATH.redirect, a URL to answer with instead (301 Moved Permanently).
"""
import http.server, json, os, ssl, sys, time

cfg = json.load(open(sys.argv[1]))
deadline = time.time() + cfg.get("timeout", 60)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        with open(cfg["log"], "a") as log:
            log.write(f"{host} {self.path}\n")
        path = os.path.join(cfg["root"], host, self.path.lstrip("/"))
        if ".." not in self.path and os.path.isfile(path + ".redirect"):
            self.send_response(301)
            self.send_header("Location", open(path + ".redirect").read().strip())
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if ".." in self.path or not os.path.isfile(path):
            self.send_error(404)
            return
        body = open(path, "rb").read()
        ctype = open(path + ".type").read().strip() if os.path.isfile(path + ".type") else "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer((cfg["listen"][0], cfg["listen"][1]), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cfg["cert"], cfg["key"])
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.timeout = 1
with open(cfg["readyfile"] + ".tmp", "w") as f:
    f.write("ready")
os.rename(cfg["readyfile"] + ".tmp", cfg["readyfile"])
while time.time() < deadline:
    server.handle_request()
