#!/bin/bash
# demo.sh - install what is needed, build okuru, and start a demo gateway on
# https://localhost:8443 with embedded defaults: SQLite and local storage in
# ./demo-data, a self-signed certificate, a fresh master key, and a demo
# user whose API token is printed. Uploads are scanned by libclamav: with
# the official databases when freshclam has filled /var/lib/clamav, else
# with a small TEST database built here (EICAR only), announced loudly. Idempotent: a second run keeps the data,
# restarts the daemon and prints a fresh token.
#   bash scripts/demo.sh          start (or restart)
#   bash scripts/demo.sh stop     stop the demo daemon
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
data=${OKURU_DEMO_DIR:-$top/demo-data}
listen=${OKURU_DEMO_LISTEN:-127.0.0.1:8443}
port=${listen##*:}

stop() {
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
		--clamav-db "$sigs" --scanner "$scanner" "${testsigs[@]}"
	[ ${#testsigs[@]} -eq 0 ] || test_db "$sigs"
	out=$("$okuructl" -c "$data/okuru.conf" user add demo --email demo@okuru.example --role sender)
else
	out=$("$okuructl" -c "$data/okuru.conf" user token demo)
fi
token=$(printf '%s\n' "$out" | tail -n 1)

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
  stop:        bash scripts/demo.sh stop

Try it (the token is printed below):
  TOKEN=<token below>; CA=$data/tls/cert.pem; U=https://localhost:$port
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" -X POST \$U/api/v1/transfers
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" -T report.pdf \$U/api/v1/transfers/ID/files/report.pdf
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" \$U/api/v1/transfers/ID    (scan verdicts)
  curl --cacert \$CA -H "Authorization: Bearer \$TOKEN" -OJ \$U/api/v1/transfers/ID/files/FILE_ID

Demo user "demo" API token (shown once):
$token
TXT
