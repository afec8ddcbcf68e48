# lib.sh - shared set-up for okuru's integration tests: a fresh data
# directory, the real okurud on a free loopback port with its own
# self-signed certificate (verified by curl via --cacert), helpers for the
# API and for assertions. Sourced by each t_*.sh; cleans up on exit.
set -eu

: "${OKURUD:?OKURUD must point at the okurud binary}"
: "${OKURUCTL:?OKURUCTL must point at the okuructl binary}"
: "${OKURU_SCANNER:?OKURU_SCANNER must point at the okuru-scanner binary}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
LIBDIR=$(cd "$(dirname "${TESTLIB:-$0}")" && pwd)
SCRIPTS="$LIBDIR/../../scripts"

T=$(mktemp -d "${TMPDIR:-/tmp}/okuru-test.XXXXXX")
# The scanner's temp directories must be on tmpfs: a private one per test.
SCANTMP=$(mktemp -d /dev/shm/okuru-test.XXXXXX)
SIGS="$T/sigs"
DATA="$T/data"
CONF="$DATA/okuru.conf"
LOG="$T/okurud.log"
PID=""
EXTRA_PIDS=""
NAME=$(basename "$0" .sh)

# Under sanitizers every report goes to a file and fails the test at exit,
# even one from a command the test expected to fail (its status alone would
# hide a leak on an error path).
if [ "${OKURU_SANITIZERS:-no}" = yes ]; then
	mkdir -p "$T/san"
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$T/san/asan"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/san/ubsan"
fi

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="https://localhost:$PORT"

cleanup() {
	rc=$?
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ] && [ -f "$LOG" ]; then
		echo "--- last lines of okurud log ---"
		tail -n 30 "$LOG"
	fi
	# Workers a test stopped (SIGSTOP) would wait for ever.
	for p in ${EXTRA_PIDS:-}; do kill -KILL "$p" 2>/dev/null || true; done
	if [ -d "$T/san" ] && [ -n "$(ls -A "$T/san")" ]; then
		echo "FAIL: $NAME: sanitizer reports:" >&2
		cat "$T/san"/* >&2
		rc=1
	fi
	rm -rf "$T" "$SCANTMP"
	exit $rc
}
trap cleanup EXIT

fail() {
	echo "FAIL: $NAME: $*" >&2
	exit 1
}

ok() {
	echo "ok - $NAME: $*"
}

assert_eq() { # actual expected message
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

assert_contains() { # haystack needle message
	case "$1" in *"$2"*) ;; *) fail "$3: '$2' not found in: $1" ;; esac
}

# eicar - the EICAR test string (assembled by scripts/eicar.sh at run time)
eicar() { sh "$SCRIPTS/eicar.sh"; }

# make_sigs [DIR] - a small signature database built now, never downloaded:
# EICAR as a body signature (.ndb) and the MD5 of a marker file (.hdb).
make_sigs() {
	d=${1:-$SIGS}
	mkdir -p "$d"
	eicar >"$T/eicar.com"
	sh "$SCRIPTS/eicar.sh" --ndb Okuru.Test.EICAR >"$d/okuru-test.ndb"
	printf 'OKURU-TEST-MARKER-%.0s' $(seq 1 64) >"$T/marker.bin"
	sigtool --md5 "$T/marker.bin" | sed 's/:marker.bin$/:Okuru.Test.Marker/' >"$d/okuru-test.hdb"
	grep -q ':Okuru.Test.Marker$' "$d/okuru-test.hdb" || fail "sigtool did not make a signature"
}

okuru_init() { # [extra okuructl init args]
	[ -d "$SIGS" ] || make_sigs
	"$OKURUCTL" init --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
		--clamav-db "$SIGS" --allow-test-signatures "$@" >/dev/null
	conf_set scanner program "\"$OKURU_SCANNER\""
	conf_set scanner tmpdir "\"$SCANTMP\""
	conf_set - templates "\"$(cd "$LIBDIR/../../templates" && pwd)\""
	conf_set - www "\"$(cd "$LIBDIR/../../www" && pwd)\""
	conf_set - policy "\"$(cd "$LIBDIR/../../policy" && pwd)/default.policy\""
	if [ "$(landlock_abi)" -lt 1 ]; then
		echo "# this kernel has no Landlock: scanning with seccomp and rlimits only"
		conf_set scanner require_landlock false
	fi
}

# landlock_abi - the kernel's Landlock ABI version, or a negative number
landlock_abi() {
	$PY -c 'import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))'
}

# conf_set GROUP KEY VALUE - replace or add "KEY = VALUE;" in group GROUP
conf_set() { $PY "$SCRIPTS/confset.py" "$CONF" "$1" "$2" "$3"; }

# staff_user NAME ROLE PASSWORD [GROUP] - a staff account NAME@bank.example
# with a password for the web login; prints its API token
staff_user() {
	"$OKURUCTL" -c "$CONF" user add "$1" --email "$1@bank.example" --role "$2" \
		${4:+--group "$4"} | tail -n 1
	printf '%s\n' "$3" | "$OKURUCTL" -c "$CONF" user passwd "$1" >/dev/null
}

# policy_use - the policy text on stdin becomes $T/test.policy, must pass
# "okuructl policy check", and is the one okurud loads at its next start
policy_use() {
	cat >"$T/test.policy"
	"$OKURUCTL" policy check "$T/test.policy" >/dev/null || fail "test policy does not load"
	conf_set - policy "\"$T/test.policy\""
}

okuru_user() { # NAME ROLE -> prints the token
	"$OKURUCTL" -c "$CONF" user add "$1" --email "$1@bank.example" --role "$2" | tail -n 1
}

okuru_start() {
	"$OKURUD" -c "$CONF" >>"$LOG" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null --cacert "$DATA/tls/cert.pem" "$URL/healthz" 2>/dev/null; then
			return 0
		fi
		kill -0 "$PID" 2>/dev/null || fail "okurud exited during start-up"
		sleep 0.1
	done
	fail "okurud did not answer /healthz"
}

# okuru_stop - SIGTERM and require a clean exit (status 0: drained, no leaks)
okuru_stop() {
	kill -TERM "$PID"
	set +e
	wait "$PID"
	rc=$?
	set -e
	PID=""
	[ "$rc" -eq 0 ] || fail "okurud exited with status $rc after SIGTERM"
}

okuru_kill9() {
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null || true
	PID=""
}

# api TOKEN METHOD PATH [curl args...] - prints the body; status in $T/status
api() {
	local tok=$1 method=$2 path=$3
	shift 3
	curl -sS --cacert "$DATA/tls/cert.pem" -X "$method" -H "Authorization: Bearer $tok" \
		-o "$T/body" -w '%{http_code}' "$@" "$URL$path" >"$T/status" || true
	cat "$T/body"
}

status() { cat "$T/status"; }

json() { # EXPR - evaluate a Python expression on the JSON in $T/body as j
	$PY -c "import json,sys; j=json.load(open('$T/body')); print($1)"
}

new_transfer() { # TOKEN -> id
	api "$1" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{"subject":"test"}' >/dev/null
	[ "$(status)" = 201 ] || fail "create transfer: status $(status)"
	json 'j["id"]'
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# upload TOKEN TID NAME FILE [curl args] - prints the new file's id
upload() {
	api "$1" PUT "/api/v1/transfers/$2/files/$3" --data-binary "@$4" "${@:5}" >/dev/null
	[ "$(status)" = 201 ] || fail "upload of $3: status $(status): $(cat "$T/body")"
	json 'j["id"]'
}

# file_field TOKEN TID FID EXPR - EXPR on the file's JSON (as f) in the transfer
file_field() {
	api "$1" GET "/api/v1/transfers/$2" >/dev/null
	[ "$(status)" = 200 ] || fail "transfer $2: status $(status)"
	json "[$4 for f in j['files'] if f['id'] == '$3'][0]"
}

# wait_scan TOKEN TID FID - wait until the scan is over; prints the state
wait_scan() {
	for _ in $(seq 1 600); do
		st=$(file_field "$1" "$2" "$3" "f['state']")
		case $st in
		uploaded | scanning) sleep 0.05 ;;
		*)
			echo "$st"
			return 0
			;;
		esac
	done
	fail "file $3 not scanned after 30 s"
}

# upload_clean TOKEN TID NAME FILE - upload, wait for the scan, require clean
upload_clean() {
	fid=$(upload "$@")
	st=$(wait_scan "$1" "$2" "$fid")
	[ "$st" = clean ] || fail "$3 scanned as $st, expected clean"
	echo "$fid"
}

# sqlq DB SQL [NAME=VALUE...] - run SQL (one or more statements) on DB with
# :NAME bound to VALUE (integers as integers), never pasted into the SQL;
# rows are printed with columns joined by $SQLQ_SEP (default "|"), like
# the sqlite3 shell.
sqlq() {
	SQLQ_SEP=${SQLQ_SEP:-|} $PY - "$@" <<'PYEOF'
import os, re, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
params = {}
for kv in sys.argv[3:]:
    k, v = kv.split("=", 1)
    params[k] = int(v) if re.fullmatch(r"-?[0-9]+", v) else v
sep, buf = os.environ["SQLQ_SEP"], ""
for ch in sys.argv[2] + ";":
    buf += ch
    if ch == ";" and sqlite3.complete_statement(buf):
        if buf.strip(" \t\n;"):
            names = set(re.findall(r":([A-Za-z_][A-Za-z0-9_]*)", buf))
            for row in db.execute(buf, {k: params[k] for k in names if k in params}):
                print(sep.join("" if c is None else str(c) for c in row))
        buf = ""
PYEOF
}

# arec TID - the staff-side audit records about transfer TID (its object, or
# detail "transfer"), oldest first: event|actor_kind|actor|outcome|recipient
arec() {
	sqlite3 "$DATA/okuru.db" "SELECT event, actor_kind, actor, object_id, outcome,
		ifnull(json_extract(detail, '\$.transfer'), ''),
		ifnull(json_extract(detail, '\$.recipient'), '') FROM audit ORDER BY seq" |
		awk -F'|' -v t="$1" '($4 == t || $6 == t) &&
			$1 ~ /^(transfer\.|policy\.|file\.upload|link\.(created|revoked)$|approval\.|hold\.|request\.created$)/ ||
			(($4 == t || $6 == t) && $1 == "file.downloaded" && $2 == "user") {
			print $1 "|" $2 "|" $3 "|" $5 "|" $7 }'
}
# adet EVENT OBJECT_ID EXPR - EXPR on the detail (as d) of the last such record
adet() {
	$PY - "$DATA/okuru.db" "$@" <<'PYEOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT detail FROM audit WHERE event = ? AND object_id = ? ORDER BY seq",
                  (sys.argv[2], sys.argv[3])).fetchall()
d = json.loads(rows[-1][0]) if rows else None
print(eval(sys.argv[4]))
PYEOF
}

# A clock tests can move: okurud under libfaketime (Debian package faketime),
# the offset read from $T/clock at every call ("+0", "+4d", libfaketime's
# syntax); the monotonic clock is left alone, so timed waits, the watchdog
# and scan timeouts are not disturbed.
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1

# faketime_available - or skip the test (exit 77)
faketime_available() {
	if [ ! -r "$FAKETIME_LIB" ]; then
		echo "# SKIP: $NAME: libfaketime is not installed (Debian package faketime)"
		exit 77
	fi
}

# clock OFFSET - move okurud's wall clock
clock() { echo "$1" >"$T/clock"; }

# okuru_start_faked - okuru_start, with okurud (only) under libfaketime
okuru_start_faked() {
	[ -f "$T/clock" ] || clock +0
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$FAKETIME_LIB" \
		FAKETIME_TIMESTAMP_FILE="$T/clock" FAKETIME_NO_CACHE=1 \
		FAKETIME_DONT_FAKE_MONOTONIC=1 "$OKURUD" -c "$CONF" >>"$LOG" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do
		curl -s -o /dev/null --cacert "$DATA/tls/cert.pem" "$URL/healthz" 2>/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || fail "okurud exited during start-up"
		sleep 0.1
	done
	fail "okurud did not answer /healthz"
}

# worker_pids - okurud's scanner workers
worker_pids() { pgrep -P "$PID" -f okuru-scanner || true; }

# health EXPR - EXPR on /healthz's JSON
health() {
	curl -sS --cacert "$DATA/tls/cert.pem" -o "$T/body" "$URL/healthz"
	json "$1"
}

# ---- browser tests (tests/js/browser.js) ----
# browser_run SCRIPT [ARGS...] - run tests/js/SCRIPT with node against the
# running okurud: Debian's Chromium through playwright-core (modules from
# $OKURU_JS_MODULES, default the source tree's tests/js/node_modules),
# trusting exactly okurud's certificate. Screenshots go to
# ${OKURU_ARTIFACTS:-<build dir>/test-artifacts}/browser/$NAME (emptied
# first). A missing browser, node, certutil or module fails the test: a
# browser test that cannot run has not passed.
browser_run() {
	local js="$LIBDIR/../js/$1" mods=${OKURU_JS_MODULES:-$LIBDIR/../js/node_modules}
	local shots="${OKURU_ARTIFACTS:-$(cd "$(dirname "$OKURUD")" && pwd)/test-artifacts}/browser/$NAME"
	shift
	[ -x /usr/bin/chromium ] || fail "browser test: /usr/bin/chromium is missing (scripts/deps.sh installs it)"
	command -v node >/dev/null || fail "browser test: node is missing (scripts/deps.sh installs it)"
	command -v certutil >/dev/null || fail "browser test: certutil is missing (Debian libnss3-tools, scripts/deps.sh)"
	[ -f "$mods/playwright-core/package.json" ] ||
		fail "browser test: no playwright-core in $mods (scripts/deps.sh; or set OKURU_JS_MODULES)"
	[ -f "$js" ] || fail "browser test: no $js"
	rm -rf "$shots"
	mkdir -p "$shots" "$T/browser"
	NODE_PATH="$mods" OKURU_URL="$URL" OKURU_CA="$DATA/tls/cert.pem" OKURU_SHOTS="$shots" \
		OKURU_BROWSER_TMP="$T/browser" OKURU_MAILCATCH="$LIBDIR/mailcatch.sh" T="$T" PY="$PY" \
		LIBDIR="$LIBDIR" SCRIPTS="$SCRIPTS" node "$js" "$@" || fail "$(basename "$js") failed"
}
