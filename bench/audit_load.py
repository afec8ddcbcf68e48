#!/usr/bin/env python3
"""audit_load.py - load on okurud for bench/audit.sh.

THREADS clients, each on its own keep-alive HTTPS connection, loop for
SECONDS: create a transfer (POST /api/v1/transfers), upload a 4 KiB file to
it (PUT .../files/NAME), and every tenth round present a wrong token (401).
Each step writes audit records (transfer.created, file.uploaded, the
scanner's file.scanned, auth.failed). Prints "requests N errors E".
"""
import http.client
import os
import ssl
import sys
import threading
import time
import json

host, port, token, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
threads, seconds = int(sys.argv[5]), float(sys.argv[6])
ctx = ssl.create_default_context(cafile=cafile)
body = os.urandom(4096)
counts = {"requests": 0, "errors": 0}
lock = threading.Lock()
deadline = time.monotonic() + seconds


def call(conn, method, path, data=None, auth=None):
    conn.request(method, path, body=data,
                 headers={"Authorization": "Bearer " + (auth or token)})
    r = conn.getresponse()
    out = r.read()
    return r.status, out


def client(n):
    conn = http.client.HTTPSConnection(host, port, context=ctx)
    req = err = 0
    i = 0
    while time.monotonic() < deadline:
        try:
            st, out = call(conn, "POST", "/api/v1/transfers")
            req += 1
            if st != 201:
                err += 1
                continue
            tid = json.loads(out)["id"]
            st, _ = call(conn, "PUT", "/api/v1/transfers/%s/files/load%d.bin" % (tid, i), body)
            req += 1
            err += st not in (200, 201)
            if i % 10 == 0:
                st, _ = call(conn, "GET", "/api/v1/transfers", auth="okr_0000000000000000_x")
                req += 1
                err += st != 401
            i += 1
        except (OSError, http.client.HTTPException):
            err += 1
            conn.close()
            conn = http.client.HTTPSConnection(host, port, context=ctx)
    with lock:
        counts["requests"] += req
        counts["errors"] += err


ts = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("requests %d errors %d" % (counts["requests"], counts["errors"]))
