#!/usr/bin/env python3
"""syslogd.py - a test syslog collector for t_audit_syslog.sh.

  syslogd.py listen OUT UDPPORT TCPPORT
      append every message received, as one JSON line {"proto", "msg" (base64)},
      to OUT; TCP framing is RFC 6587 octet counting ("LEN SP MSG").
  syslogd.py check OUT DB
      parse every message (RFC 5424) and compare the audit ones with the audit
      table of DB: each record once, in seq order, fields and detail exact.
      Prints "records N checkpoints M udp U tcp T".
  syslogd.py append DB EVENT OUTCOME DETAIL
      append a valid record (okuru's v1 hash encoding, docs/ARCHITECTURE.md)
      with this detail, as okurud would, for text okuru's own commands never
      produce.
"""
import base64
import hashlib
import json
import socket
import socketserver
import sqlite3
import struct
import sys
import threading
import time

LOCK = threading.Lock()


def save(out, proto, msg):
    with LOCK, open(out, "a") as f:
        f.write(json.dumps({"proto": proto, "msg": base64.b64encode(msg).decode()}) + "\n")


def listen(out, udpport, tcpport):
    class Udp(socketserver.BaseRequestHandler):
        def handle(self):
            save(out, "udp", self.request[0])

    class Tcp(socketserver.StreamRequestHandler):
        def handle(self):
            while True:
                n = b""
                while True:
                    c = self.rfile.read(1)
                    if not c:
                        return
                    if c == b" ":
                        break
                    if not c.isdigit() or len(n) > 9:
                        raise SystemExit("bad octet count framing: %r" % (n + c))
                    n += c
                msg = self.rfile.read(int(n))
                if len(msg) != int(n):
                    return
                save(out, "tcp", msg)

    socketserver.ThreadingUDPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    u = socketserver.ThreadingUDPServer(("127.0.0.1", udpport), Udp)
    t = socketserver.ThreadingTCPServer(("127.0.0.1", tcpport), Tcp)
    t.daemon_threads = True
    threading.Thread(target=u.serve_forever, daemon=True).start()
    t.serve_forever()


def unescape(v):
    out, i = "", 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v) and v[i + 1] in '"\\]':
            out += v[i + 1]
            i += 2
        else:
            out += v[i]
            i += 1
    return out


def parse(raw):
    """RFC 5424: header fields, one SD element's params, the MSG."""
    s = raw.decode("utf-8")
    assert s.startswith("<"), s
    pri, rest = s[1:].split(">", 1)
    ver, ts, host, app, procid, msgid, rest = rest.split(" ", 6)
    assert ver == "1" and app == "okurud", s
    assert rest.startswith("["), s
    i, sdid = 1, ""
    while rest[i] not in " ]":
        sdid += rest[i]
        i += 1
    params = {}
    while rest[i] == " ":
        i += 1
        eq = rest.index("=", i)
        name = rest[i:eq]
        assert rest[eq + 1] == '"', s
        j, val = eq + 2, ""
        while rest[j] != '"':
            if rest[j] == "\\":
                val += rest[j : j + 2]
                j += 2
            else:
                assert rest[j] != "]", "unescaped ] in %s" % s
                val += rest[j]
                j += 1
        params[name] = unescape(val)
        i = j + 1
    assert rest[i] == "]", s
    msg = rest[i + 1 :]
    assert msg.startswith(" \ufeff"), "MSG must start with SP BOM: %r" % msg[:8]
    return {"pri": int(pri), "ts": ts, "host": host, "procid": procid, "msgid": msgid,
            "sdid": sdid, "params": params, "msg": msg[2:]}


def check(out, db):
    got = []
    with open(out) as f:
        for line in f:
            j = json.loads(line)
            got.append((j["proto"], parse(base64.b64decode(j["msg"]))))
    recs = [m for p, m in got if m["msgid"] == "audit"]
    cps = [m for p, m in got if m["msgid"] == "checkpoint"]
    seqs = [int(m["params"]["seq"]) for m in recs]
    assert seqs == sorted(set(seqs)), "duplicates or out of order: %s" % seqs
    con = sqlite3.connect(db)
    rows = con.execute("SELECT seq, at, actor_kind, actor, ip, event, object_kind, object_id, "
                       "outcome, detail, hex(hash) FROM audit ORDER BY seq").fetchall()
    first = rows[0][0]
    assert seqs == list(range(seqs[0], rows[-1][0] + 1)) and seqs[0] <= first, \
        "records %s..%s expected, got %s" % (first, rows[-1][0], seqs)
    bym = {int(m["params"]["seq"]): m for m in recs}
    for (seq, at, ak, actor, ip, ev, ok_, oid, outcome, detail, h) in rows:
        m = bym[seq]
        p = m["params"]
        assert m["sdid"] == "okuru@32473", m["sdid"]
        want = {"seq": str(seq), "hash": h.lower(), "event": ev, "actor_kind": ak,
                "actor": actor, "ip": ip, "outcome": outcome, "object_kind": ok_,
                "object_id": oid}
        assert p == want, "record %d: %s != %s" % (seq, p, want)
        assert m["msg"] == detail, "record %d detail %r != %r" % (seq, m["msg"], detail)
        sev = 5 if outcome == "ok" else 4
        assert m["pri"] == 19 * 8 + sev, "record %d PRI %d" % (seq, m["pri"])
        assert m["ts"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)), m["ts"]
    for m in cps:
        assert m["sdid"] == "okuru-checkpoint@32473", m["sdid"]
        assert m["msg"].startswith("okuru-audit-checkpoint v1\nseq %s\n" % m["params"]["seq"])
    print("records %d checkpoints %d udp %d tcp %d" % (
        len(recs), len(cps), sum(1 for p, m in got if p == "udp"),
        sum(1 for p, m in got if p == "tcp")))


def lstr(s):
    b = s.encode("utf-8")
    return struct.pack(">I", len(b)) + b


def append(db, event, outcome, detail):
    con = sqlite3.connect(db, timeout=10, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    seq, prev = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq += 1
    at = int(time.time())
    f = ["system", "okurud", "", "", event, "test", "t1", outcome, detail]
    m = lstr("okuru audit record v1") + struct.pack(">qq", seq, at)
    for x in f:
        m += lstr(x)
    h = hashlib.blake2b(m + prev, digest_size=32).digest()
    con.execute("INSERT INTO audit (seq, at, actor_kind, actor, ip, user_agent, event, "
                "object_kind, object_id, outcome, detail, prev, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, at] + f + [prev, h])
    con.execute("COMMIT")
    print(seq)


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        listen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "append":
        append(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
