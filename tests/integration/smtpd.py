#!/usr/bin/python3
"""smtpd.py - a real SMTP server for okuru's tests and demo (aiosmtpd).

  smtpd.py --port 0 --cert server.pem --key server.key --maildir DIR \\
           [--mode starttls|implicit|plain] [--auth USER:PASS] \\
           [--reject-rcpt SUBSTRING] [--ready-file PATH] [--host 127.0.0.1]

Modes: starttls offers STARTTLS and refuses MAIL before it; implicit speaks
TLS from the first byte (smtps); plain offers no STARTTLS at all (a client
that insists on TLS must refuse to send). With --auth, AUTH PLAIN/LOGIN is
offered only over TLS and required before MAIL.

Each accepted message is written as DIR/NNNNNN.eml (the raw bytes) after
DIR/NNNNNN.json ({mail_from, rcpt_tos, tls_version, cipher, peer}), both
atomically, so a message counted by its .eml always has its .json.
--reject-rcpt answers 550 to every RCPT address containing SUBSTRING.
--ready-file receives the listening port once the server accepts
connections. Runs until SIGTERM or SIGINT. Needs Debian's python3-aiosmtpd.
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


class Handler:
    def __init__(self, maildir, reject):
        self.maildir = maildir
        self.reject = reject
        self.seq = len([n for n in os.listdir(maildir) if n.endswith(".eml")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject in address:
            return "550 5.1.1 <%s>: recipient rejected by the test server" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = server.transport.get_extra_info("ssl_object")
        if tls is None:
            # never reached with require_starttls or implicit TLS; recorded
            # anyway so a test can tell
            version, cipher = None, None
        else:
            version, cipher = tls.version(), tls.cipher()[0]
        self.seq += 1
        base = os.path.join(self.maildir, "%06d" % self.seq)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls_version": version,
            "cipher": cipher,
            "peer": list(session.peer) if session.peer else None,
        }
        write_atomic(base + ".json", json.dumps(meta).encode())
        write_atomic(base + ".eml", envelope.original_content)
        return "250 2.0.0 OK queued as %06d" % self.seq


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        # handled=False: aiosmtpd answers 535 itself
        return AuthResult(success=ok, handled=False)
    return authenticator


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--mode", choices=("starttls", "implicit", "plain"), default="starttls")
    ap.add_argument("--auth", metavar="USER:PASS")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--reject-rcpt", metavar="SUBSTRING")
    ap.add_argument("--ready-file")
    ap.add_argument("--max-tls", choices=("1.2", "1.3"),
                    help="highest TLS version offered (what the client records must follow)")
    a = ap.parse_args()

    logging.basicConfig(level=logging.ERROR)
    # aiosmtpd warns when AUTH is required with auth_require_tls off; in
    # implicit mode every byte is TLS already
    warnings.simplefilter("ignore")
    ctx = None
    if a.mode != "plain":
        if not a.cert or not a.key:
            ap.error("--cert and --key are needed for mode %s" % a.mode)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if a.max_tls == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(a.cert, a.key)
    os.makedirs(a.maildir, exist_ok=True)
    handler = Handler(a.maildir, a.reject_rcpt)
    kw = {"hostname": "localhost", "timeout": 60}
    if a.auth:
        user, _, password = a.auth.partition(":")
        kw.update(authenticator=make_authenticator(user, password), auth_required=True)
    if a.mode == "starttls":
        kw.update(tls_context=ctx, require_starttls=True)
    elif a.mode == "implicit":
        # aiosmtpd's own TLS check only knows STARTTLS
        kw.update(auth_require_tls=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, loop=loop, **kw), a.host, a.port,
        ssl=ctx if a.mode == "implicit" else None))
    port = server.sockets[0].getsockname()[1]
    if a.ready_file:
        write_atomic(a.ready_file, b"%d\n" % port)
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    loop.run_until_complete(stop)
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
