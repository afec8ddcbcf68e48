#!/usr/bin/python3
"""slowclient.py - a hostile slow client for okuru's tests.

usage: slowclient.py MODE PORT CAFILE [TOKEN] [PATH]
  idle      TCP connect, send nothing (no TLS handshake)
  headers   TLS, then request headers one byte every 0.5 s
  body      TLS, full PUT headers, then the body at ~50 bytes/s
Prints the seconds until the server closed the connection (or "open" if
it was still open after 60 s).
"""
import socket, ssl, sys, time

mode, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
token = sys.argv[4] if len(sys.argv) > 4 else ""
path = sys.argv[5] if len(sys.argv) > 5 else "/healthz"
start = time.monotonic()
raw = socket.create_connection(("127.0.0.1", port), timeout=70)

def closed_after():
    return "%.1f" % (time.monotonic() - start)

try:
    if mode == "idle":
        raw.settimeout(60)
        data = raw.recv(1)
        print(closed_after() if data == b"" else "data")
        sys.exit(0)
    ctx = ssl.create_default_context(cafile=cafile)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    if mode == "headers":
        req = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
        for i in range(len(req)):
            s.send(req[i:i + 1])
            time.sleep(0.5)
            if time.monotonic() - start > 60:
                print("open")
                sys.exit(0)
        print("complete")
    elif mode == "body":
        hdr = ("PUT %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
               "Content-Length: 90000\r\n\r\n" % (path, token)).encode()
        s.sendall(hdr)
        while time.monotonic() - start < 60:
            s.send(b"x" * 25)
            time.sleep(0.5)
        print("open")
except (ConnectionError, ssl.SSLError, BrokenPipeError, OSError):
    print(closed_after())
