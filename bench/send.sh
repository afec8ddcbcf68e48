#!/usr/bin/env bash
# bench/send.sh - how fast sending goes from the API to the recipient's
# mailbox, and what recipient verification costs.
#
# Not a test: it prints figures. Builds okuru without sanitizers from the
# committed tree (or uses --bin DIR), starts the real okurud on loopback
# and the test SMTP server (tests/integration/smtpd.py, STARTTLS required,
# certificate from a throwaway CA), then measures, over --runs runs:
#   - send → mail: from the start of POST .../send (one recipient, one clean
#     file) to the link mail being in the SMTP server's maildir (render,
#     seal, commit, mailer thread, libcurl STARTTLS session, delivery),
#   - code → mail: from POST /d/TOKEN/code to the one-time code's mail,
#   - code verify: POST /d/TOKEN/verify with the right code (hash compare,
#     one transaction, session cookie),
#   - passphrase verify: the same with a passphrase (Argon2id, libsodium's
#     INTERACTIVE limits, one check at a time),
# and prints the median, the 90th percentile and the maximum of each.
# Everything lives in one temporary directory, removed on exit.
#
# Usage: bash bench/send.sh [--bin DIR] [--runs N] [--keep]
set -euo pipefail

RUNS=20
BIN=""
KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: bash bench/send.sh [--bin DIR] [--runs N] [--keep]" >&2; exit 2 ;;
	esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/okuru-bench-send.XXXXXX")
DPID="" SPID=""
info() { echo "# $*" >&2; }
die() { echo "bench/send.sh: $*" >&2; exit 1; }
cleanup() {
	for p in $DPID $SPID; do kill -TERM "$p" 2>/dev/null || true; done
	[ "$KEEP" = 1 ] && info "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
. "$ROOT/bench/common.sh"
bench_binaries

DATA="$W/data" CONF="$W/data/okuru.conf" PORT=$(free_port)
mkdir -p "$W/sigs" "$W/mail"
test_sigs "$W/sigs" Okuru.Bench.EICAR
sh "$ROOT/scripts/testca.sh" "$W/ca"
/usr/bin/python3 "$ROOT/tests/integration/smtpd.py" --host 127.0.0.1 --port 0 --mode starttls \
	--cert "$W/ca/server.pem" --key "$W/ca/server.key" --maildir "$W/mail" \
	--ready-file "$W/smtpd.ready" >"$W/smtpd.log" 2>&1 &
SPID=$!
for _ in $(seq 1 100); do [ -s "$W/smtpd.ready" ] && break; sleep 0.1; done
[ -s "$W/smtpd.ready" ] || die "smtpd.py did not start"
"$OKURUCTL" init --data-dir "$DATA" --listen "127.0.0.1:$PORT" --clamav-db "$W/sigs" \
	--allow-test-signatures --scanner "$SCANNER" --smtp-url "smtp://localhost:$(cat "$W/smtpd.ready")" \
	--smtp-ca-file "$W/ca/ca.pem" --mail-from okuru@bench.example >/dev/null
mkdir -p /dev/shm/okuru-bench-send.$$
conf_set scanner tmpdir "\"/dev/shm/okuru-bench-send.$$\""
conf_set - templates "\"$ROOT/templates\""
conf_set - www "\"$ROOT/www\""
conf_set links otp_per_hour 100
python3 -c 'import ctypes,sys; sys.exit(ctypes.CDLL(None).syscall(444, None, 0, 1) < 1)' ||
	conf_set scanner require_landlock false
TOK=$("$OKURUCTL" -c "$CONF" user add bench --email bench@bank.example --role sender | tail -n 1)
"$OKURUD" -c "$CONF" >"$W/okurud.log" 2>&1 &
DPID=$!
U="https://localhost:$PORT"
CA="$DATA/tls/cert.pem"
for _ in $(seq 1 100); do curl -s -o /dev/null --cacert "$CA" "$U/healthz" && break; sleep 0.1; done
head -c 100000 /dev/urandom >"$W/f.bin"

ms() { date +%s%N; }
api() { curl -sS --cacert "$CA" -H "Authorization: Bearer $TOK" "$@"; }
jget() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
nmail() { find "$W/mail" -name '*.eml' | wc -l; }
wait_mail() { # N -> waits until N messages
	for _ in $(seq 1 2000); do [ "$(nmail)" -ge "$1" ] && return 0; sleep 0.005; done
	die "mail $1 did not arrive"
}
newest() { find "$W/mail" -name '*.eml' -printf '%f\n' | sort | tail -n 1; }
text() { /usr/bin/python3 -c '
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print(m.get_body(preferencelist=("plain",)).get_content())' "$W/mail/$1"; }

: >"$W/send" ; : >"$W/code" ; : >"$W/verify" ; : >"$W/pass"
info "$RUNS runs; okurud on $U, SMTP STARTTLS on port $(cat "$W/smtpd.ready"); $SRCDESC"
for i in $(seq 1 "$RUNS"); do
	for mode in otp pass; do
		tid=$(api -X POST "$U/api/v1/transfers" | jget '["id"]')
		api -T "$W/f.bin" "$U/api/v1/transfers/$tid/files/f.bin" >/dev/null
		for _ in $(seq 1 400); do
			st=$(api "$U/api/v1/transfers/$tid" | jget '["files"][0]["state"]')
			[ "$st" = clean ] && break
			sleep 0.01
		done
		n=$(nmail)
		body='{"recipients":["r'$i'@client.example"]}'
		[ $mode = pass ] && body='{"recipients":["p'$i'@client.example"],"verification":"passphrase","passphrase":"bench passphrase 1"}'
		t0=$(ms)
		api -H 'Content-Type: application/json' -d "$body" "$U/api/v1/transfers/$tid/send" >/dev/null
		wait_mail $((n + 1))
		t1=$(ms)
		[ $mode = otp ] && echo $(((t1 - t0) / 1000)) >>"$W/send"
		link=$(text "$(newest)" | grep -o 'https://[^ ]*/d/[A-Za-z0-9_-]*' | head -n 1)
		jar="$W/jar.$mode.$i"
		if [ $mode = otp ]; then
			t0=$(ms)
			curl -sS --cacert "$CA" -H 'Accept: application/json' -X POST "$link/code" >/dev/null
			wait_mail $((n + 2))
			t1=$(ms)
			echo $(((t1 - t0) / 1000)) >>"$W/code"
			code=$(text "$(newest)" | grep -Eo '^[[:space:]]*[0-9]{6,8}[[:space:]]*$' | tr -d ' \r\t' | head -n 1)
			t0=$(ms)
			r=$(curl -sS --cacert "$CA" -c "$jar" -o /dev/null -w '%{http_code}' -H 'Accept: application/json' \
				-H 'Content-Type: application/json' -d "{\"code\":\"$code\"}" "$link/verify")
			t1=$(ms)
			[ "$r" = 200 ] || die "verify with code: $r"
			echo $(((t1 - t0) / 1000)) >>"$W/verify"
		else
			t0=$(ms)
			r=$(curl -sS --cacert "$CA" -c "$jar" -o /dev/null -w '%{http_code}' -H 'Accept: application/json' \
				-H 'Content-Type: application/json' -d '{"passphrase":"bench passphrase 1"}' "$link/verify")
			t1=$(ms)
			[ "$r" = 200 ] || die "verify with passphrase: $r"
			echo $(((t1 - t0) / 1000)) >>"$W/pass"
		fi
	done
done
stats() { # FILE LABEL
	sort -n "$1" | awk -v l="$2" '{a[NR]=$1} END {
		p90 = a[int((NR * 9 + 9) / 10)]; if (p90 == "") p90 = a[NR]
		printf "%-34s median %7.1f ms   p90 %7.1f ms   max %7.1f ms   (n=%d)\n", l,
			a[int((NR + 1) / 2)] / 1000, p90 / 1000, a[NR] / 1000, NR }'
}
echo "okuru send benchmark: $RUNS runs, $(nproc) cores, $SRCDESC"
stats "$W/send" "send -> link mail delivered"
stats "$W/code" "code request -> code mail"
stats "$W/verify" "verify (one-time code)"
stats "$W/pass" "verify (passphrase, Argon2id)"
grep -o 'tls="[^"]*"' "$W/okurud.log" | sort | uniq -c | sed 's/^/mail sessions: /'
