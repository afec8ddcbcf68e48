#!/usr/bin/python3
"""tuscut.py - a tus client whose connection breaks in the middle of a PATCH.

usage: tuscut.py PORT CAFILE TOKEN PATH FILE OFFSET NBYTES [HOLD]
TOKEN is a staff bearer token, or cookie:VALUE for a counterparty's session.
Sends PATCH PATH (Upload-Offset OFFSET) announcing the whole rest of FILE
(Content-Length), writes only NBYTES of it, waits HOLD seconds (default 0)
with the request open, then closes the TCP connection
without a TLS close_notify, as a client whose network went away. Prints the
number of body bytes written.
"""
import socket, ssl, sys, time

port, cafile, token, path, fname = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
offset, nbytes = int(sys.argv[6]), int(sys.argv[7])
hold = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
data = open(fname, "rb").read()[offset:]
raw = socket.create_connection(("127.0.0.1", port), timeout=30)
ctx = ssl.create_default_context(cafile=cafile)
s = ctx.wrap_socket(raw, server_hostname="localhost")
# TOKEN "cookie:VALUE" is a counterparty's session (okuru_s) instead of a bearer token.
auth = ("Cookie: okuru_s=%s" % token[7:] if token.startswith("cookie:")
        else "Authorization: Bearer %s" % token)
hdr = ("PATCH %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n"
       "Tus-Resumable: 1.0.0\r\nUpload-Offset: %d\r\n"
       "Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n"
       % (path, auth, offset, len(data))).encode()
s.sendall(hdr)
s.sendall(data[:nbytes])
time.sleep(hold)
# Cut: the TCP connection goes, the TLS session is never closed.
s.shutdown(socket.SHUT_RDWR)  # the TCP socket's shutdown; no TLS alert is sent
s.close()
print(nbytes)
