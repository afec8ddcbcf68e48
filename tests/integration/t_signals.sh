#!/bin/bash
# t_signals.sh - SIGHUP reloads configuration and certificate (a bad file
# keeps the old one and says why, with file:line); SIGTERM lets an upload
# in flight finish, then exits 0.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
fp() {
	echo | openssl s_client -connect "127.0.0.1:$PORT" -servername localhost 2>/dev/null \
		| openssl x509 -noout -fingerprint -sha256
}
fp1=$(fp)

# A bad configuration is refused; the daemon keeps serving with the old one.
cp "$CONF" "$T/good.conf"
printf 'limits = {\n  max_file_size = ;\n};\n' >>"$CONF"
kill -HUP "$PID"
sleep 1
grep -q "event=reload.failed" "$LOG" || fail "no reload.failed event"
grep "event=reload.failed" "$LOG" | grep -q "okuru.conf:[0-9]" || fail "reload error lacks file:line"
curl -sS --cacert "$DATA/tls/cert.pem" -o /dev/null "$URL/healthz" || fail "not serving after a bad reload"
ok "bad configuration on SIGHUP keeps the old one"

# A good reload changes a limit at once.
cp "$T/good.conf" "$CONF"
conf_set limits max_file_size 1000
kill -HUP "$PID"
for _ in $(seq 1 50); do grep -q "event=reload.ok" "$LOG" && break; sleep 0.1; done
head -c 2000 /dev/urandom >"$T/f2k"
api "$tok" PUT "/api/v1/transfers/$tid/files/a" --data-binary "@$T/f2k" >/dev/null
assert_eq "$(status)" 413 "reloaded size limit"
ok "SIGHUP applies a new limit"

# A new certificate is served after SIGHUP.
mkdir "$T/newtls"
"$OKURUCTL" init --data-dir "$T/other" --listen 127.0.0.1:1 >/dev/null
cp "$T/other/tls/cert.pem" "$T/other/tls/key.pem" "$T/newtls/"
conf_set tls certificate "\"$T/newtls/cert.pem\""
conf_set tls key "\"$T/newtls/key.pem\""
conf_set limits max_file_size '"10G"'
kill -HUP "$PID"
sleep 1
fp2=$(fp)
[ -n "$fp2" ] && [ "$fp2" != "$fp1" ] || fail "certificate not replaced on SIGHUP"
curl -sS --cacert "$T/newtls/cert.pem" -o /dev/null "$URL/healthz" || fail "new certificate does not verify"
ok "SIGHUP reloads the certificate"

# SIGTERM while an upload trickles in: the upload completes, then exit 0.
head -c 3000000 /dev/urandom >"$T/slow"
curl -sS --cacert "$T/newtls/cert.pem" -H "Authorization: Bearer $tok" --limit-rate 1M \
	-T "$T/slow" -o "$T/up" -w '%{http_code}' "$URL/api/v1/transfers/$tid/files/slow.bin" >"$T/upstatus" &
cpid=$!
sleep 1
kill -TERM "$PID"
wait "$cpid" || true
set +e
wait "$PID"
rc=$?
set -e
PID=""
assert_eq "$rc" 0 "exit status after SIGTERM"
assert_eq "$(cat "$T/upstatus")" 201 "upload in flight during SIGTERM"
grep -q "event=shutdown.done" "$LOG" || fail "no shutdown.done event"
cp "$T/good.conf" "$CONF"
okuru_start
api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(json '[f["sha256"] for f in j["files"] if f["name"]=="slow.bin"][0]')" "$(sha "$T/slow")" "drained upload stored"
ok "SIGTERM drains an upload in flight and exits 0"
okuru_stop

# A second okurud on the same storage refuses to start and touches nothing.
okuru_start
head -c 2000000 /dev/urandom >"$T/slow2"
curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" --limit-rate 500K \
	-T "$T/slow2" -o /dev/null -w '%{http_code}' "$URL/api/v1/transfers/$tid/files/slow2.bin" >"$T/upstatus" &
cpid=$!
sleep 1
if "$OKURUD" -c "$CONF" 2>"$T/second.err"; then fail "second okurud started"; fi
assert_contains "$(cat "$T/second.err")" "in use by another okurud" "second instance message"
wait "$cpid" || true
assert_eq "$(cat "$T/upstatus")" 201 "upload of the first daemon survived the second start"
okuru_stop
ok "a second okurud on the same storage refuses to start"
