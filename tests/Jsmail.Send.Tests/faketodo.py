#!/usr/bin/python3
# A stand-in for qmail-todo (interfaces §2.16), started by the real jsmail-start
# on the real descriptors: fd 0 from qmail-send, fd 1 to it. It keeps every byte
# qmail-send writes in <home>/todo-input and, once the first byte has come,
# sends the NUL-terminated records the test appends to <home>/todo-script (whole
# records only, each once). On X it answers X\0 and exits, as qmail-todo does.
# Every wait is bounded: it gives up after 120 s, and on EOF.
import os, select, sys, time

home = os.path.dirname(os.path.dirname(os.path.realpath(sys.argv[0])))
inp = os.open(os.path.join(home, 'todo-input'), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
script = os.path.join(home, 'todo-script')
deadline = time.monotonic() + 120
started = False
sent = 0
while time.monotonic() < deadline:
    ready, _, _ = select.select([0], [], [], 0.05)
    if ready:
        data = os.read(0, 64)
        if not data:
            sys.exit(1)
        os.write(inp, data)
        started = True
        if b'X' in data:
            os.write(1, b'X\0')
            sys.exit(0)
    if not started:
        continue
    try:
        with open(script, 'rb') as f:
            records = f.read()
    except FileNotFoundError:
        continue
    end = records.rfind(b'\0') + 1
    if end > sent:
        os.write(1, records[sent:end])
        sent = end
sys.exit(2)
