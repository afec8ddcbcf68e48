#!/bin/bash
# t_audit_syslog.sh - audit.syslog: okurud forwards every audit record, and
# every signed checkpoint, to a collector (syslogd.py here) as RFC 5424
# messages: each record once, in seq order, with its fields as structured
# data (escaped per RFC 5424 6.3.3) and its detail as the MSG. A collector
# that is down loses nothing (okurud retries), a restart resumes without
# duplicates, and TCP (octet counting) and UDP both work.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

SYSLOGD="$LIBDIR/syslogd.py"
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UP=$(free_port)
TP=$(free_port)
OUT="$T/syslog.jsonl"
: >"$OUT"
collector_start() {
	$PY "$SYSLOGD" listen "$OUT" "$UP" "$TP" &
	COLLECTOR=$!
	EXTRA_PIDS="${EXTRA_PIDS:-} $COLLECTOR"
	for _ in $(seq 1 50); do
		$PY -c "import socket,sys; socket.create_connection(('127.0.0.1', $TP), 1)" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the collector did not start"
}
collector_stop() { kill "$COLLECTOR"; wait "$COLLECTOR" 2>/dev/null || true; }
DB="$DATA/okuru.db"
nrec() { sqlite3 "$DB" "SELECT count(*) FROM audit"; }
# wait_sent - until the collector has every record of the database
wait_sent() {
	local want
	for _ in $(seq 1 150); do
		want=$(nrec)
		[ "$($PY - "$OUT" <<'PY'
import base64, json, sys
n = 0
for line in open(sys.argv[1]):
    if b" audit [" in base64.b64decode(json.loads(line)["msg"]):
        n += 1
print(n)
PY
)" -ge "$want" ] && return 0
		sleep 0.1
	done
	fail "the collector did not get all $want records: $(wc -l <"$OUT") messages"
}
check() { $PY "$SYSLOGD" check "$OUT" "$DB"; }

okuru_init
conf_set audit syslog "\"tcp://127.0.0.1:$TP\""
conf_set audit syslog_facility '"local3"'
conf_set audit checkpoint_interval 1
# The setting is checked: a URL with a path, no port, or another scheme is refused.
for bad in "tcp://127.0.0.1" "udp://127.0.0.1:514/x" "http://127.0.0.1:514" "tcp://u@127.0.0.1:514" "unix:dev/log"; do
	cp "$CONF" "$T/bad.conf"
	$PY "$SCRIPTS/confset.py" "$T/bad.conf" audit syslog "\"$bad\""
	if "$OKURUD" -c "$T/bad.conf" -t >"$T/err" 2>&1; then fail "audit.syslog $bad accepted"; fi
	assert_contains "$(cat "$T/err")" "audit.syslog must be" "audit.syslog $bad refused"
done
ok "audit.syslog is checked"

collector_start
okuru_user alice sender >/dev/null # records 1, 2 before okurud runs: sent too
okuru_start
detail=$($PY -c 'import json; print(json.dumps({"note": "say \"hi\" ] \\ back] 日本語のテキスト"}, ensure_ascii=False, separators=(",", ":")))')
$PY "$SYSLOGD" append "$DB" test.special denied "$detail" >/dev/null
kill -HUP "$PID"
wait_sent
out=$(check)
assert_contains "$out" "records $(nrec) " "every record sent once, in order, exact"
assert_contains "$out" "udp 0" "TCP only"
$PY - "$OUT" <<'PY' || fail "the special record's message"
import base64, json, sys
for line in open(sys.argv[1]):
    m = base64.b64decode(json.loads(line)["msg"])
    if b'event="test.special"' in m:
        assert m.startswith(b"<156>1 "), m[:8]  # local3.warning: outcome denied
        assert b'outcome="denied"' in m
        assert "\ufeff{\"note\":\"say \\\"hi\\\" ] \\\\ back] 日本語のテキスト\"}".encode() in m, m
        sys.exit(0)
sys.exit(1)
PY
case $out in *"checkpoints 0 "*) fail "no checkpoint forwarded: $out" ;; esac
ok "records reach the collector once, in order, with exact structured data, escaping and UTF-8 detail"

# The collector goes away: records pile up, nothing is lost, okurud keeps serving.
collector_stop
kill -HUP "$PID"
for _ in $(seq 1 50); do grep -q 'event=audit.syslog_failed' "$LOG" && break; sleep 0.1; done
grep -q 'event=audit.syslog_failed' "$LOG" || fail "no audit.syslog_failed logged"
curl -s -o /dev/null --cacert "$DATA/tls/cert.pem" "$URL/healthz" || fail "okurud stuck while the collector is down"
collector_start
wait_sent
assert_contains "$(check)" "records $(nrec) " "nothing lost while the collector was down"
ok "a collector that was down gets everything afterwards, without loss or duplicates"

# Restarts: okurud resumes after the last record sent (schema 7 audit_forward).
okuru_stop
okuru_start
okuru_stop
okuru_start
wait_sent
out=$(check)
assert_contains "$out" "records $(nrec) " "restart: no duplicates, none missing"
okuru_stop
assert_eq "$(sqlite3 "$DB" 'SELECT last_seq FROM audit_forward')" "$(sqlite3 "$DB" 'SELECT max(seq) FROM audit')" \
	"the shutdown records were sent before exit"
ok "a restart resumes without duplicates; the shutdown records are sent before okurud exits"

# UDP.
conf_set audit syslog "\"udp://127.0.0.1:$UP\""
okuru_start
kill -HUP "$PID"
wait_sent
okuru_stop
out=$(check)
assert_contains "$out" "records $(nrec) " "UDP: every record once"
case $out in *"udp 0"*) fail "nothing arrived over UDP: $out" ;; esac
ok "UDP forwarding"
