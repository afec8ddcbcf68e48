#!/bin/bash
# t_audit_mail.sh - audit.checkpoint_mail: each checkpoint okurud signs is
# mailed to the auditor through the outbox (so only over verified TLS, as
# every okuru mail); the six lines between the markers, saved as a file,
# are an export okuructl audit verify --checkpoint accepts, and a log
# truncated after that checkpoint is caught with it.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

AUDITOR=auditor@example.jp
okuru_init --mail-from okuru@bank.example
conf_set audit checkpoint_mail "\"$AUDITOR\""
conf_set audit checkpoint_interval 3600 # only the one at shutdown and the first below
cp "$CONF" "$T/bad.conf"
$PY "$SCRIPTS/confset.py" "$T/bad.conf" audit checkpoint_mail '"not an address"'
if "$OKURUD" -c "$T/bad.conf" -t >"$T/err" 2>&1; then fail "a bad checkpoint_mail was accepted"; fi
assert_contains "$(cat "$T/err")" "audit.checkpoint_mail must be one plain address" "checkpoint_mail checked"
smtp_start starttls
okuru_user alice sender >/dev/null
okuru_start
okuru_stop # okurud.stopped, then the shutdown checkpoint and its mail (queued)
okuru_start # the mailer sends what was queued
mail_wait 1
okuru_stop
eml=$(mail_to "$AUDITOR")
assert_eq "$(mail_meta "$eml" 'j["tls_version"] in ("TLSv1.2", "TLSv1.3")')" True "the mail went over TLS"
seq=$(sqlite3 "$DATA/okuru.db" "SELECT seq FROM audit_checkpoints ORDER BY id LIMIT 1")
assert_contains "$(mail_subject "$eml")" "okuru audit checkpoint (record $seq)" "subject"
mail_text "$eml" | sed -n '/^-----BEGIN OKURU AUDIT CHECKPOINT-----$/,/^-----END OKURU AUDIT CHECKPOINT-----$/p' |
	sed '1d;$d' >"$T/mailed.cp"
assert_eq "$(wc -l <"$T/mailed.cp" | tr -d ' ')" 6 "six lines between the markers"
assert_eq "$(head -n 2 "$T/mailed.cp" | tail -n 1)" "seq $seq" "the checkpoint's seq"
out=$("$OKURUCTL" -c "$CONF" audit verify --checkpoint "$T/mailed.cp")
assert_contains "$out" "ok: " "verify with the mailed checkpoint"
ok "a signed checkpoint is mailed to the auditor over TLS and verifies with --checkpoint"

# The log cut back to before the mailed checkpoint: only the auditor's copy shows it.
cp "$CONF" "$T/verify.conf"
$PY "$SCRIPTS/confset.py" "$T/verify.conf" - database "\"$T/copy.db\""
sqlite3 "$DATA/okuru.db" ".backup '$T/copy.db'"
sqlq "$T/copy.db" "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_checkpoints_no_delete;
	DELETE FROM audit WHERE seq >= :s; DELETE FROM audit_checkpoints WHERE seq >= :s - 1" s="$seq"
assert_contains "$("$OKURUCTL" -c "$T/verify.conf" audit verify)" "ok: " "the truncated copy alone looks fine"
set +e
out=$("$OKURUCTL" -c "$T/verify.conf" audit verify --checkpoint "$T/mailed.cp")
rc=$?
set -e
assert_eq "$rc" 1 "verify of the truncated copy with the mailed checkpoint"
assert_contains "$out" "record $seq: missing (a signed checkpoint ($T/mailed.cp) covers record $seq" "report"
ok "the mailed checkpoint catches a truncated log"
