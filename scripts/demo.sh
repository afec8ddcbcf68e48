#!/bin/bash
# demo.sh - install what is needed, build okuru, and start a demo gateway on
# https://localhost:8443 with embedded defaults: SQLite and local storage in
# ./demo-data, a self-signed certificate, a fresh master key, and a demo
# user whose API token is printed. Uploads are scanned by libclamav: with
# the official databases when freshclam has filled /var/lib/clamav, else
# with a small TEST database built here (EICAR only), announced loudly. Mail
# goes to a local catcher (tests/integration/smtpd.py) that requires STARTTLS
# with a certificate from a demo CA made here; every message it accepts is
# kept in ./demo-data/mail. Idempotent: a second run keeps the data,
# restarts the daemons and prints a fresh token.
#   bash scripts/demo.sh          start (or restart)
#   bash scripts/demo.sh stop     stop the demo daemon
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
data=${OKURU_DEMO_DIR:-$top/demo-data}
listen=${OKURU_DEMO_LISTEN:-127.0.0.1:8443}
port=${listen##*:}
smtp_port=${OKURU_DEMO_SMTP_PORT:-2525}

stop() {
	if [ -f "$data/smtpd.pid" ] && kill -0 "$(cat "$data/smtpd.pid")" 2>/dev/null; then
		kill -TERM "$(cat "$data/smtpd.pid")"
	fi
	rm -f "$data/smtpd.pid"
	if [ -f "$data/okurud.pid" ] && kill -0 "$(cat "$data/okurud.pid")" 2>/dev/null; then
		kill -TERM "$(cat "$data/okurud.pid")"
		for _ in $(seq 1 100); do
			kill -0 "$(cat "$data/okurud.pid")" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$data/okurud.pid"
}
if [ "${1:-}" = stop ]; then
	stop
	echo "demo: stopped"
	exit 0
fi

cd "$top"
bash scripts/deps.sh
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi
build="$top/_build/demo"
mkdir -p "$build"
(
	cd "$build"
	[ -f config.status ] && [ config.status -nt "$top/configure" ] || "$top/configure" -q
	make -j2 >/dev/null
)
okurud="$build/okurud"
okuructl="$build/okuructl"
scanner="$build/okuru-scanner"

# test_db DIR - the EICAR test string (assembled by scripts/eicar.sh, so that
# no file here is itself flagged by scanners) as a body signature.
test_db() {
	mkdir -p "$1"
	sh "$top/scripts/eicar.sh" --ndb Okuru.Demo.EICAR >"$1/okuru-demo.ndb"
}

stop
if [ ! -f "$data/okuru.conf" ]; then
	sigs=/var/lib/clamav
	testsigs=()
	if ! { [ -f $sigs/main.cvd ] || [ -f $sigs/main.cld ]; } ||
		! { [ -f $sigs/daily.cvd ] || [ -f $sigs/daily.cld ]; }; then
		sigs="$data/clamav-test"
		testsigs=(--allow-test-signatures)
	fi
	"$okuructl" init --data-dir "$data" --listen "$listen" --public-url "https://localhost:$port" \
		--clamav-db "$sigs" --scanner "$scanner" "${testsigs[@]}" \
		--smtp-url "smtp://localhost:$smtp_port" --smtp-ca-file "$data/mailca/ca.pem" \
		--mail-from okuru@okuru.example
	# The demo serves pages and mail templates from the source tree.
	python3 scripts/confset.py "$data/okuru.conf" - templates "\"$top/templates\""
	python3 scripts/confset.py "$data/okuru.conf" - www "\"$top/www\""
	[ ${#testsigs[@]} -eq 0 ] || test_db "$sigs"
	out=$("$okuructl" -c "$data/okuru.conf" user add demo --email demo@okuru.example --role sender)
else
	out=$("$okuructl" -c "$data/okuru.conf" user token demo)
fi
# The policy, also for demo data made before okuru had one.
python3 scripts/confset.py "$data/okuru.conf" - policy "\"$top/policy/default.policy\""
# The audit log's signing key, also for demo data made before okuru had one.
[ -f "$data/audit.key" ] || "$okuructl" -c "$data/okuru.conf" audit keygen >/dev/null
token=$(printf '%s\n' "$out" | tail -n 1)
# A password for the web pages, made once and kept beside the data (0600).
if [ ! -s "$data/demo-password" ]; then
	(umask 077 && openssl rand -base64 15 >"$data/demo-password")
	"$okuructl" -c "$data/okuru.conf" user passwd demo <"$data/demo-password" >/dev/null
fi

# The local mail catcher: STARTTLS required, certificate from the demo CA.
sh scripts/testca.sh "$data/mailca"
mkdir -p "$data/mail"
rm -f "$data/smtpd.ready"
nohup /usr/bin/python3 tests/integration/smtpd.py --host 127.0.0.1 --port "$smtp_port" \
	--mode starttls --cert "$data/mailca/server.pem" --key "$data/mailca/server.key" \
	--maildir "$data/mail" --ready-file "$data/smtpd.ready" >>"$data/smtpd.log" 2>&1 &
echo $! >"$data/smtpd.pid"
for _ in $(seq 1 100); do
	[ -s "$data/smtpd.ready" ] && break
	sleep 0.1
done
[ -s "$data/smtpd.ready" ] || {
	tail -n 20 "$data/smtpd.log"
	echo "demo: the mail catcher did not start (port $smtp_port in use?)" >&2
	exit 1
}

nohup "$okurud" -c "$data/okuru.conf" >>"$data/okurud.log" 2>&1 &
echo $! >"$data/okurud.pid"
for _ in $(seq 1 100); do
	curl -s -o /dev/null --cacert "$data/tls/cert.pem" "https://localhost:$port/healthz" && break
	sleep 0.1
done
curl -sf -o /dev/null --cacert "$data/tls/cert.pem" "https://localhost:$port/healthz" || {
	tail -n 20 "$data/okurud.log"
	echo "demo: okurud did not start" >&2
	exit 1
}
if grep -q '^ *allow_test_signatures = true' "$data/okuru.conf"; then
	cat <<TXT

**********************************************************************
* DEMO: okuru scans uploads with a TEST signature database that only *
* knows the EICAR test file. Real malware is NOT detected.           *
* For real use: apt install clamav-freshclam, let freshclam fill     *
* /var/lib/clamav, and remove allow_test_signatures from okuru.conf. *
**********************************************************************
TXT
fi
cat <<TXT

okuru demo gateway is running on https://localhost:$port  (pid $(cat "$data/okurud.pid"))
  data:        $data   (SQLite, encrypted storage, master key, self-signed certificate)
  log:         $data/okurud.log
  certificate: $data/tls/cert.pem
  mail:        smtp://localhost:$smtp_port (STARTTLS required; demo CA $data/mailca/ca.pem)
               every message okuru sends is kept in $data/mail/*.eml
  stop:        bash scripts/demo.sh stop

In a browser: https://localhost:$port/  (trust $data/tls/cert.pem, or accept the warning)
  log in as "demo" with the password in $data/demo-password: $(cat "$data/demo-password")
  then set up two-step login with an authenticator app (the page shows a QR code)

Or with curl (the token is printed below):
  TOKEN=<token below>; CA=$data/tls/cert.pem; U=https://localhost:$port
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" -X POST \$U/api/v1/transfers
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" -T report.pdf \$U/api/v1/transfers/ID/files/report.pdf
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" \$U/api/v1/transfers/ID    (scan verdicts)
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" -OJ \$U/api/v1/transfers/ID/files/FILE_ID
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
       -d '{"recipients":["partner@client.example"]}' \$U/api/v1/transfers/ID/send
  then open the link in the newest $data/mail/*.eml (ask for a code: it arrives there too)

Demo user "demo" API token (shown once):
$token
TXT
