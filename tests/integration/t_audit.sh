#!/bin/bash
# t_audit.sh - the audit log (issue #6, first step): records made by
# okuructl (user add, token, group add/remove) and okurud (started, config
# reloaded, stopped), checkpoints signed by okurud, one exported; then each
# tampering case on a COPY of the database, as an administrator with sqlite3
# would do it (the append-only triggers dropped first), must make
# "okuructl audit verify" exit 1 naming the record.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
for f in audit.key audit.pub; do [ -f "$DATA/$f" ] || fail "init did not create $f"; done
assert_eq "$(stat -c %a "$DATA/audit.key")" 600 "audit key mode"
if "$OKURUCTL" -c "$CONF" audit keygen 2>"$T/err"; then fail "keygen overwrote the audit key"; fi
assert_contains "$(cat "$T/err")" "refusing to overwrite" "keygen refusal"

okuru_user alice sender >/dev/null
"$OKURUCTL" -c "$CONF" user group alice add payments >/dev/null
"$OKURUCTL" -c "$CONF" user token alice >/dev/null
"$OKURUCTL" -c "$CONF" user group alice remove payments >/dev/null
conf_set audit checkpoint_interval 1
okuru_start
kill -HUP "$PID"
for _ in $(seq 1 50); do
	grep -q 'event=audit.checkpoint ' "$LOG" && grep -q 'event=reload' "$LOG" && break
	sleep 0.1
done
okuru_stop

events=$(sqlite3 "$DATA/okuru.db" "SELECT group_concat(event, ' ') FROM (SELECT event FROM audit ORDER BY seq)")
assert_eq "$events" "user.added user.token_issued user.group_added user.token_issued user.group_removed okurud.started config.reloaded okurud.stopped" "events"
actor=$(sqlite3 "$DATA/okuru.db" "SELECT actor_kind || ' ' || actor || ' ' || object_id FROM audit WHERE seq = 1")
assert_eq "$actor" "admin-cli $(id -un) alice" "okuructl's actor"
sqlite3 "$DATA/okuru.db" "UPDATE audit SET actor = 'x' WHERE seq = 1" 2>"$T/err" && fail "the trigger let an UPDATE through"
assert_contains "$(cat "$T/err")" "append-only" "trigger"

out=$("$OKURUCTL" -c "$CONF" audit verify)
assert_contains "$out" "ok: 8 records," "verify of the real log"
assert_contains "$out" "last seq 8 hash " "verify output"
"$OKURUCTL" -c "$CONF" audit checkpoint --out "$T/cp8"
grep -q '^seq 8$' "$T/cp8" || fail "exported checkpoint is not of record 8"
ok "records, checkpoints and a clean verify"

# tamper SQL... - run SQL on a fresh copy; VCONF points at the copy
VCONF="$T/verify.conf"
tamper() {
	local sql=$1
	rm -f "$T/copy.db" "$T/copy.db-wal" "$T/copy.db-shm"
	sqlite3 "$DATA/okuru.db" ".backup '$T/copy.db'"
	sqlite3 "$T/copy.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
		DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete; $sql"
}
cp "$CONF" "$VCONF"
$PY "$SCRIPTS/confset.py" "$VCONF" - database "\"$T/copy.db\""
# expect_bad MESSAGE [verify args] - verify must exit 1 and print MESSAGE
expect_bad() {
	local want=$1 got rc
	shift
	set +e
	got=$("$OKURUCTL" -c "$VCONF" audit verify "$@")
	rc=$?
	set -e
	assert_eq "$rc" 1 "verify status for '$want'"
	assert_contains "$got" "$want" "verify report"
}

tamper ""
assert_contains "$("$OKURUCTL" -c "$VCONF" audit verify --checkpoint "$T/cp8")" "ok: 8 records" "untouched copy"

tamper "UPDATE audit SET object_id = 'mallory' WHERE seq = 3"
expect_bad "record 3: hash does not match its contents"
ok "an edited record is reported"

tamper "DELETE FROM audit WHERE seq = 4"
expect_bad "record 4: missing (the next record is 5)"
ok "a deleted record is reported"

tamper "CREATE TABLE t AS SELECT * FROM audit WHERE seq IN (2, 5);
	UPDATE audit SET (at, actor_kind, actor, ip, user_agent, event, object_kind, object_id,
		outcome, detail, prev, hash) = (SELECT at, actor_kind, actor, ip, user_agent, event,
		object_kind, object_id, outcome, detail, prev, hash FROM t WHERE t.seq = 7 - audit.seq)
	WHERE seq IN (2, 5)"
expect_bad "record 2: its prev is not the hash of record 1"
ok "reordered records are reported"

# Truncating the tail: delete records 7 and 8 and the stored checkpoints that
# cover them. The chain that is left is consistent, so without an exported
# checkpoint this is NOT detectable; the checkpoint exported earlier catches it.
tamper "DELETE FROM audit WHERE seq > 6; DELETE FROM audit_checkpoints WHERE seq > 6"
assert_contains "$("$OKURUCTL" -c "$VCONF" audit verify)" "ok: 6 records" "truncation alone"
expect_bad "record 7: missing (a signed checkpoint ($T/cp8) covers record 8" --checkpoint "$T/cp8"
ok "a truncated tail is detected against an exported checkpoint"

tamper "UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE id = (SELECT max(id) FROM audit_checkpoints)"
expect_bad "signature does not verify"
tamper ""
sed '/^signature /{s/^signature a/signature b/;t;s/^signature ./signature a/}' "$T/cp8" >"$T/forged"
cmp -s "$T/cp8" "$T/forged" && fail "the forged checkpoint is the real one"
expect_bad "($T/forged): signature does not verify" --checkpoint "$T/forged"
ok "a forged checkpoint signature is reported"

# Another public key (a new pair made with keygen): every checkpoint is refused.
mv "$DATA/audit.key" "$T/audit.key.saved"
mv "$DATA/audit.pub" "$T/audit.pub.saved"
"$OKURUCTL" -c "$CONF" audit keygen >/dev/null
expect_bad "signature does not verify with public key" --public-key "$DATA/audit.pub"
ok "another public key is reported"

# Without its signing key okurud refuses to start.
rm "$DATA/audit.key"
if "$OKURUD" -c "$CONF" >"$T/err" 2>&1; then fail "okurud started without its audit key"; fi
assert_contains "$(cat "$T/err")" "audit signing key" "refusal message"
if "$OKURUD" -c "$CONF" -t >"$T/err" 2>&1; then fail "okurud -t accepted a missing audit key"; fi
mv "$T/audit.key.saved" "$DATA/audit.key"
if "$OKURUD" -c "$CONF" -t >"$T/err" 2>&1; then fail "okurud -t accepted a mismatched public key"; fi
assert_contains "$(cat "$T/err")" "is not the public half" "mismatch message"
ok "okurud refuses to start without a usable audit key"
