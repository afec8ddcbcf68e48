#!/bin/bash
# t_scanfault.sh - the scanner fails closed. A worker killed with -9 in the
# middle of a scan, a scan over the timeout, a blob damaged before it is
# scanned: the file is "error", never clean; okurud stays up and a new
# worker takes over. Without signatures the scanner is degraded, files wait
# and nothing is served; okurud refuses to start without signatures.
# Workers are held in a scan deterministically with SIGSTOP.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
conf_set scanner timeout 3
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
head -c 300000 /dev/urandom >"$T/f"

one_worker() { # waits for exactly one ready worker; prints its pid
	for _ in $(seq 1 200); do
		p=$(worker_pids)
		if [ -n "$p" ] && [ "$(echo "$p" | wc -l)" = 1 ] &&
			[ "$(health 'j["scanner"]["workers"]')" = 1 ]; then
			echo "$p"
			return 0
		fi
		sleep 0.05
	done
	fail "no single ready scanner worker"
}

wait_scanning() { # TID FID
	for _ in $(seq 1 200); do
		[ "$(file_field "$tok" "$1" "$2" "f['state']")" = scanning ] && return 0
		sleep 0.05
	done
	fail "file $2 never reached the scanning state"
}

# 1. kill -9 during a scan.
w1=$(one_worker)
kill -STOP "$w1"
EXTRA_PIDS="$w1"
fid=$(upload "$tok" "$tid" crash.bin "$T/f")
wait_scanning "$tid" "$fid"
kill -KILL "$w1"
assert_eq "$(wait_scan "$tok" "$tid" "$fid")" error "state after the worker was killed"
assert_eq "$(file_field "$tok" "$tid" "$fid" "f['scan']['reason']")" crashed "reason"
assert_contains "$(file_field "$tok" "$tid" "$fid" "f['scan']['message']")" "signal 9" "message"
api "$tok" GET "/api/v1/transfers/$tid/files/$fid" >/dev/null
assert_eq "$(status)" 409 "download of a file whose scan crashed"
w2=$(one_worker)
[ "$w2" != "$w1" ] || fail "the killed worker was not replaced"
kill -0 "$PID" || fail "okurud died with its worker"
fid2=$(upload_clean "$tok" "$tid" after-crash.bin "$T/f")
ok "kill -9 during a scan: error (crashed), never clean; a new worker scans the next file"

# 2. A scan that overruns scanner.timeout is killed.
kill -STOP "$w2"
EXTRA_PIDS="$w2"
start=$(date +%s)
fid=$(upload "$tok" "$tid" slow.bin "$T/f")
assert_eq "$(wait_scan "$tok" "$tid" "$fid")" error "state after the timeout"
took=$(($(date +%s) - start))
assert_eq "$(file_field "$tok" "$tid" "$fid" "f['scan']['reason']")" timeout "reason"
[ "$took" -ge 2 ] || fail "killed after ${took}s, before the 3 s timeout"
kill -0 "$w2" 2>/dev/null && fail "the worker that timed out is still alive"
w3=$(one_worker)
grep -q 'event=scanner.worker_stopped.*why="scan timed out"' "$LOG" || fail "timeout not logged"
ok "a scan over the timeout is killed: error (timeout), worker replaced"

# 3. A blob damaged between upload and scan fails authentication: error.
kill -STOP "$w3"
EXTRA_PIDS="$w3"
fid=$(upload "$tok" "$tid" damaged.bin "$T/f")
wait_scanning "$tid" "$fid"
$PY - "$DATA/storage/blobs/${fid:0:2}/$fid" <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(48 + 100); b = f.read(1); f.seek(48 + 100); f.write(bytes([b[0] ^ 1]))
PYEOF
kill -CONT "$w3"
assert_eq "$(wait_scan "$tok" "$tid" "$fid")" error "state of a damaged blob"
assert_eq "$(file_field "$tok" "$tid" "$fid" "f['scan']['reason']")" integrity "reason"
ok "a blob that fails authentication during the scan is an error, not clean"

# 4. A file left "scanning" by a stopped okurud is scanned again at start.
w4=$(one_worker)
kill -STOP "$w4"
EXTRA_PIDS="$w4"
fid=$(upload "$tok" "$tid" requeue.bin "$T/f")
wait_scanning "$tid" "$fid"
okuru_stop # the stopped worker is killed; the file stays "scanning"
assert_eq "$(sqlite3 "$DATA/okuru.db" "SELECT state FROM files WHERE id = '$fid'")" scanning "state at stop"
okuru_start
assert_eq "$(wait_scan "$tok" "$tid" "$fid")" clean "re-queued file"
ok "a scan cut short by a restart is done again"

# 5. Signatures gone: the respawn fails, the scanner is degraded, files wait.
mv "$SIGS" "$T/sigs.away"
kill -KILL "$(one_worker)"
for _ in $(seq 1 100); do
	[ "$(health 'j["scanner"]["status"]')" = degraded ] && break
	sleep 0.1
done
assert_eq "$(health 'j["scanner"]["status"]')" degraded "scanner status without signatures"
assert_eq "$(health 'j["status"]')" degraded "overall status"
curl -sS --cacert "$DATA/tls/cert.pem" -o /dev/null -w '%{http_code}' "$URL/healthz" >"$T/status"
assert_eq "$(status)" 200 "healthz answers while degraded"
assert_contains "$(health 'j["scanner"].get("last_error", "")')" "$SIGS" "the reason names the directory"
fid=$(upload "$tok" "$tid" waiting.bin "$T/f")
sleep 1
assert_eq "$(file_field "$tok" "$tid" "$fid" "f['state']")" uploaded "file waits for the scanner"
api "$tok" GET "/api/v1/transfers/$tid/files/$fid" >/dev/null
assert_eq "$(status)" 409 "waiting file cannot be downloaded"
api "$tok" GET "/api/v1/transfers/$tid/files/$fid2" >/dev/null
assert_eq "$(status)" 200 "clean files still download while degraded"
mv "$T/sigs.away" "$SIGS"
assert_eq "$(wait_scan "$tok" "$tid" "$fid")" clean "file scanned once signatures are back"
assert_eq "$(health 'j["scanner"]["status"]')" ok "scanner recovered"
ok "no signatures: degraded, files wait (never clean), served again once signatures return"
okuru_stop

# 6. A worker that has used half its CPU budget retires after its result
#    and a new one takes the next file: no file is lost on the way.
conf_set scanner timeout 5
conf_set scanner cpu_limit 10
okuru_start
# Different content each time: libclamav skips content it has seen clean.
big() { head -c $((32 * 1024 * 1024)) /dev/urandom >"$T/big$1"; }
n=0
while ! grep -q "retired itself after half its CPU budget" "$LOG"; do
	n=$((n + 1))
	[ "$n" -le 30 ] || fail "no worker retired after 30 files of 32 MiB"
	big "$n"
	fid=$(upload "$tok" "$tid" "cpu$n.bin" "$T/big$n")
	rm "$T/big$n"
	assert_eq "$(wait_scan "$tok" "$tid" "$fid")" clean "file $n before and around the retirement"
done
big x
fid=$(upload_clean "$tok" "$tid" after-retire.bin "$T/bigx")
files=""
for i in $(seq 1 12); do big "c$i" && files="$files $T/bigc$i"; done
set +e
# shellcheck disable=SC2086
"$OKURUCTL" -c "$CONF" scan $files >"$T/out" 2>"$T/err"
rc=$?
set -e
assert_eq "$rc" 0 "okuructl scan across a retirement: $(cat "$T/out" "$T/err")"
assert_eq "$(grep -c ': clean type=[^ ]*$' "$T/out")" 12 "okuructl verdicts across a retirement"
assert_contains "$(cat "$T/err")" "used half its CPU budget" "okuructl saw a retirement"
ok "a worker retires after half its CPU budget without losing a file (okurud and okuructl scan)"
okuru_stop

# 7. okurud refuses to start without signatures, or with test signatures
#    unless allowed, or without its scanner program; each with a clear reason.
refuse() { # EXPECTED-TEXT
	set +e
	timeout 60 "$OKURUD" -c "$CONF" >"$T/refuse.log" 2>&1
	rc=$?
	set -e
	[ "$rc" -ne 0 ] || fail "okurud started: $1"
	grep -q "$1" "$T/refuse.log" || fail "no '$1' in: $(cat "$T/refuse.log")"
}
mkdir "$T/empty"
conf_set clamav database "\"$T/empty\""
refuse "no signatures in $T/empty"
conf_set clamav database "\"$SIGS\""
conf_set clamav allow_test_signatures false
refuse "has no official ClamAV databases"
conf_set clamav allow_test_signatures true
conf_set scanner program '"/nonexistent/okuru-scanner"'
refuse "cannot start /nonexistent/okuru-scanner"
conf_set scanner program "\"$OKURU_SCANNER\""
ok "okurud refuses to start without signatures, with unallowed test signatures, or without its scanner"
case $(stat -f -c %T "$T") in
tmpfs | ramfs) echo "# $T is on tmpfs: the disk temp dir check is not exercised here" ;;
*)
	conf_set scanner tmpdir "\"$T\""
	refuse "is not memory-backed"
	ok "okurud refuses a scanner temp dir on disk"
	;;
esac
