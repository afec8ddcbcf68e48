#!/bin/bash
# t_audit_purge.sh - the audit log's retention (okuru-policy(5)
# retention.audit_days = 10) with a clock the test moves (libfaketime, as in
# t_purge.sh): records younger than audit_days stay, older ones go, the
# purge is itself a record (audit.purged) anchored by a signed checkpoint,
# "okuructl audit verify" accepts the purged log, and a head deleted by hand
# without that anchor is reported. Also "okuructl audit purge" and the
# audit line of "okuructl purge --dry-run".
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

faketime_available

okuru_init
cat >"$T/retention.policy" <<'POL'
version = 1;
retention = {
  metadata_days = 10;
  audit_days = 10;
};
POL
conf_set - policy "\"$T/retention.policy\""
conf_set retention interval 1
DB="$DATA/okuru.db"
sql() { sqlite3 "$DB" "$1"; }
wait_log() { # PATTERN [SECS]
	local ticks=$((${2:-20} * 10))
	for _ in $(seq 1 "$ticks"); do
		grep -qE "$1" "$LOG" && return 0
		sleep 0.1
	done
	fail "no log line matching '$1' within ${2:-20} s"
}

# Records 1, 2 by okuructl (now), 3 okurud.started (now), 4 config.reloaded (+5 days).
okuru_user alice sender >/dev/null
clock +0
okuru_start_faked
clock +5d
kill -HUP "$PID"
wait_log 'event=reload' 10
sleep 1.5 # purger runs at +5 days: nothing is 10 days old
assert_eq "$(sql 'SELECT count(*) FROM audit WHERE event = '"'"'audit.purged'"'"'')" 0 "no purge at +5 days"
assert_eq "$(sql 'SELECT min(seq) FROM audit')" 1 "all records kept at +5 days"

# At +12 days records 1-3 (made at +0) are older than 10 days; 4 (+5 days) is not.
clock +12d
wait_log 'event=audit.purged ' 10
okuru_stop
assert_eq "$(sql 'SELECT min(seq) FROM audit')" 4 "the first record left"
assert_eq "$(sql 'SELECT event FROM audit WHERE seq = 4')" config.reloaded "the young record stays"
row=$(sql "SELECT actor_kind || ' ' || actor || ' ' || object_kind || ' ' || object_id FROM audit WHERE event = 'audit.purged'")
assert_eq "$row" "system okurud audit 3" "audit.purged actor and object"
detail=$(sql "SELECT detail FROM audit WHERE event = 'audit.purged'")
hash3=$(sql "SELECT hex(prev) FROM audit WHERE seq = 4" | tr 'A-F' 'a-f')
assert_eq "$detail" "{\"audit_days\":10,\"first_seq\":1,\"records\":3,\"through_hash\":\"$hash3\",\"through_seq\":3}" "audit.purged detail"
assert_eq "$(sql "SELECT first_seq, through_seq, lower(hex(through_hash)), audit_days FROM audit_anchors")" \
	"1|3|$hash3|10" "the signed purge anchor of records 1 to 3"
assert_eq "$(sql 'SELECT count(*) FROM audit_checkpoints WHERE seq <= 3')" 0 "checkpoints went with their records"
sql "DELETE FROM audit WHERE seq = 4" 2>"$T/err" && fail "the delete trigger is gone after a purge"
assert_contains "$(cat "$T/err")" "append-only" "the delete trigger is back"
out=$("$OKURUCTL" -c "$CONF" audit verify)
assert_contains "$out" "ok: " "verify after the purge"
assert_contains "$out" "records 1 to 3 were purged (audit.purged); the log starts at 4" "verify says where the log starts"
ok "records older than audit_days are purged, younger ones stay; the purge is recorded and verify passes"

# okuructl: the dry run lists what would go, and audit purge does it (as admin-cli).
head=$(sql 'SELECT max(seq) FROM audit')
at=$($PY -c 'import datetime as d; print((d.datetime.utcnow() + d.timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
out=$("$OKURUCTL" -c "$CONF" purge --dry-run --at "$at")
assert_contains "$out" "audit    records 4 to $((head - 1)) ($((head - 4))," "purge --dry-run audit line"
out=$("$OKURUCTL" -c "$CONF" audit purge --dry-run)
assert_contains "$out" "audit    no records older than" "audit purge --dry-run now"
assert_eq "$(sql 'SELECT min(seq) FROM audit')" 4 "a dry run removes nothing"
out=$("$OKURUCTL" -c "$CONF" audit purge --at "$at")
assert_contains "$out" "audit    records 4 to $((head - 1))" "audit purge output"
assert_eq "$(sql 'SELECT min(seq) FROM audit')" "$head" "okuructl purged all but the newest"
assert_eq "$(sqlq "$DB" "SELECT actor_kind || ' ' || object_id FROM audit WHERE seq = :s" s=$((head + 1)))" \
	"admin-cli $((head - 1))" "okuructl's audit.purged record"
assert_contains "$("$OKURUCTL" -c "$CONF" audit verify)" "the log starts at $head" "verify after okuructl's purge"
ok "okuructl purge --dry-run shows the audit records due; okuructl audit purge purges them"

# A head deleted by hand (triggers dropped) without an anchor is tampering.
VCONF="$T/verify.conf"
cp "$CONF" "$VCONF"
$PY "$SCRIPTS/confset.py" "$VCONF" - database "\"$T/copy.db\""
tamper() { # SQL [NAME=VALUE...] - the attacker's SQL on a copy, :NAME bound
	local sql=$1
	shift
	rm -f "$T/copy.db" "$T/copy.db-wal" "$T/copy.db-shm"
	sqlite3 "$DB" ".backup '$T/copy.db'"
	sqlq "$T/copy.db" "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_checkpoints_no_delete; $sql" "$@"
}
expect_bad() { # MESSAGE [verify args]
	local want=$1 got rc
	shift
	set +e
	got=$("$OKURUCTL" -c "$VCONF" audit verify "$@")
	rc=$?
	set -e
	assert_eq "$rc" 1 "verify status for '$want'"
	assert_contains "$got" "$want" "verify report"
}
tamper "DELETE FROM audit WHERE seq = :h; DELETE FROM audit_checkpoints WHERE seq <= :h" h="$head"
expect_bad "record $((head + 1)): the log starts here, but no signed purge anchor covers records 1 to $head"
ok "a head deleted without a signed anchor is reported"

# A signed checkpoint at the cut is not enough: it is not a purge anchor (another label).
okuru_start_faked
okuru_stop # okurud.started, okurud.stopped and a checkpoint of the latter
cut=$(sql 'SELECT max(seq) FROM audit_checkpoints')
okuru_start_faked
okuru_stop
tamper "DELETE FROM audit WHERE seq <= :c; DELETE FROM audit_checkpoints WHERE seq < :c" c="$cut"
expect_bad "record $((cut + 1)): the log starts here, but no signed purge anchor covers records 1 to $cut"
# Nor is a copy of the real anchor stretched over more records, or one with a forged signature.
tamper "DELETE FROM audit WHERE seq <= :c; DELETE FROM audit_checkpoints WHERE seq < :c;
	DROP TRIGGER audit_anchors_no_update;
	UPDATE audit_anchors SET through_seq = :c, through_hash = (SELECT prev FROM audit WHERE seq = :c + 1)
	WHERE id = (SELECT max(id) FROM audit_anchors)" c="$cut"
expect_bad "purge anchor of records"
tamper "DROP TRIGGER audit_anchors_no_update; UPDATE audit_anchors SET signature = zeroblob(64) WHERE first_seq = 1"
expect_bad "purge anchor of records 1 to 3: signature does not verify"
ok "a head deleted up to a signed checkpoint, or behind an altered anchor, is reported"
