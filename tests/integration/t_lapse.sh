#!/bin/bash
# t_lapse.sh - an approval request nobody acts on lapses at its deadline:
# okurud runs under libfaketime (lib.sh okuru_start_faked); the clock moves
# past approval.expire_hours, the periodic task (every retention.interval)
# ends the transfer as lapsed, cancels its held link mail, mails the
# sender, and a late vote is refused. One decided in time does not lapse.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

faketime_available
okuru_init
smtp_start starttls
cat >"$T/lapse.policy" <<'EOF'
version = 1;
rules = (
  { id = "partner-approval"; match = { recipient_domains = [ "partner.example" ]; };
    approval = { group = "compliance"; count = 1; self = false; expire_hours = 2; }; }
);
EOF
conf_set - policy "\"$T/lapse.policy\""
conf_set retention interval 1
tok=$(okuru_user alice sender)
"$OKURUCTL" -c "$CONF" user add carol --email carol@bank.example --role approver \
	--group compliance >"$T/carol"
ctok=$(tail -n 1 "$T/carol")
okuru_start_faked

head -c 5000 /dev/urandom >"$T/a.bin"
send() { # TID RECIPIENT
	api "$tok" POST "/api/v1/transfers/$1/send" -H 'Content-Type: application/json' \
		-d "{\"recipients\":[\"$2\"]}" >/dev/null
}
decide() { # TID JSON
	api "$ctok" POST "/api/v1/approvals/$1" -H 'Content-Type: application/json' -d "$2" >/dev/null
}
state() { api "$tok" GET "/api/v1/transfers/$1" >/dev/null && json 'j["state"]'; }

t1=$(new_transfer "$tok")
upload_clean "$tok" "$t1" a.bin "$T/a.bin" >/dev/null
send "$t1" lee@partner.example
assert_eq "$(status)" 202 "pending: $(cat "$T/body")"
t2=$(new_transfer "$tok")
upload_clean "$tok" "$t2" a.bin "$T/a.bin" >/dev/null
send "$t2" mo@partner.example
assert_eq "$(status)" 202 "pending"
mail_wait 2 # carol, twice
decide "$t2" '{"decision":"approve"}'
assert_eq "$(json 'j["decision"]')" approved "t2 approved in time"
mail_wait 4 # mo's link, alice's notice
sleep 2
assert_eq "$(state "$t1")" pending "before the deadline: still pending"
ok "an approval request waits until its deadline"

n=$(mail_count)
clock +3h
for _ in $(seq 1 50); do
	grep -q "event=approval.lapsed transfer=$t1" "$LOG" && break
	sleep 0.1
done
grep -q "event=approval.lapsed transfer=$t1 notified=yes" "$LOG" || fail "no lapse logged"
assert_eq "$(state "$t1")" lapsed "lapsed after the deadline"
assert_eq "$(json 'j["ended"] is not None')" True "ended time set"
assert_eq "$(state "$t2")" sent "a transfer decided in time is untouched"
mail_wait $((n + 1))
m=$(mail_to alice@bank.example)
assert_contains "$(mail_text "$m")" "not approved in time" "the sender is told"
assert_eq "$(sqlite3 "$DATA/okuru.db" "SELECT state || ':' || (sealed IS NULL) FROM outbox WHERE to_addr = 'lee@partner.example'")" "failed:1" "the held link mail is cancelled and erased"
decide "$t1" '{"decision":"approve"}'
assert_eq "$(status)" 409 "no vote after the lapse"
api "$ctok" GET /api/v1/approvals >/dev/null
assert_eq "$(json 'len(j["pending"])')" 0 "nothing pending"
sleep 1
[ "$(find "$MAILDIR" -name '*.json' -exec grep -l 'lee@partner.example' {} + | wc -l)" = 0 ] ||
	fail "a lapsed transfer mailed its recipient"
okuru_stop
ok "past its deadline the request lapses: sender told, link mail cancelled, late vote 409"

assert_eq "$(arec "$t1" | tail -n 3)" "transfer.sent|user|alice|ok|
link.created|user|alice|ok|lee@partner.example
transfer.lapsed|system|okurud|ok|" "audit: the clock lapses the transfer"
assert_eq "$(adet transfer.lapsed "$t1" 'd["links_ended"]')" 1 "the lapse ends the link"
assert_eq "$(arec "$t2" | tail -n 2)" "approval.approved|user|carol|ok|
transfer.approved|user|carol|ok|" "audit: approved in time"
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'transfer.lapsed'")
assert_eq "$n" 1 "one lapse"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: transfer.lapsed by the system, the approval by its approver"
