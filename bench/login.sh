#!/usr/bin/env bash
# bench/login.sh - what a staff login costs (issue #7). Not a test: it
# prints figures. Runs the real okurud (prebuilt binaries from --bin DIR,
# default _build/dev, built without sanitizers) on loopback through
# tests/integration/lib.sh, with the lockout and the per-address limit
# raised out of the way, and times with curl:
#   1. --runs logins with the right password (each a fresh TLS connection,
#      one Argon2id check, a session row and its audit record);
#   2. --runs with a wrong password (the check, the counted attempt and the
#      recorded failure) and --runs for an unknown user (the dummy check);
#   3. --parallel logins at once: the two-at-a-time Argon2id gate.
# Usage: bash bench/login.sh [--bin DIR] [--runs N] [--parallel N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=$top/_build/dev
RUNS=20
PAR=16
while [ $# -gt 0 ]; do
	case $1 in
	--bin) BIN=$(cd "$2" && pwd); shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--parallel) PAR=$2; shift 2 ;;
	*) echo "usage: bash bench/login.sh [--bin DIR] [--runs N] [--parallel N]" >&2; exit 2 ;;
	esac
done
export OKURUD=$BIN/okurud OKURUCTL=$BIN/okuructl OKURU_SCANNER=$BIN/okuru-scanner
export TESTLIB=$top/tests/integration/lib.sh
. "$TESTLIB"
okuru_init
conf_set auth lockout_failures 100
conf_set auth login_per_minute 100000
okuru_start
"$OKURUCTL" -c "$CONF" user add taro --email taro@bank.example --role sender >/dev/null
printf '%s\n' 'correct horse battery' | "$OKURUCTL" -c "$CONF" user passwd taro >/dev/null
one() { # USER PASSWORD -> seconds
	curl -sS --cacert "$DATA/tls/cert.pem" -o /dev/null -w '%{time_total}\n' \
		-H 'Content-Type: application/json' \
		-d "$(jq -nc --arg u "$1" --arg p "$2" '{user: $u, password: $p}')" "$URL/api/v1/session"
}
stats() { sort -n | awk -v what="$1" '{a[NR] = $1} END {printf "%-34s median %.3f s  p90 %.3f s  (%d runs)\n", what, a[int(NR / 2) + 1], a[int(NR * 0.9)], NR}'; }
echo "okuru login benchmark: $(nproc) cores, binaries in $BIN"
for _ in $(seq 1 "$RUNS"); do one taro 'correct horse battery'; done | stats "login, right password"
for i in $(seq 1 "$RUNS"); do one taro "wrong $i"; done | stats "refused, wrong password"
for i in $(seq 1 "$RUNS"); do one "nobody$i" x; done | stats "refused, unknown user"
start=$(date +%s.%N)
pids=""
for _ in $(seq 1 "$PAR"); do
	one taro 'correct horse battery' >/dev/null &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
end=$(date +%s.%N)
awk -v n="$PAR" -v s="$start" -v e="$end" 'BEGIN {printf "%d logins at once: %.2f s, %.1f logins/s\n", n, e - s, n / (e - s)}'
okuru_stop
