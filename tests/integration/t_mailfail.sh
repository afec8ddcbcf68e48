#!/bin/bash
# t_mailfail.sh - mail never goes out without verified TLS: a server that
# offers no STARTTLS, and one with an untrusted certificate, receive nothing
# while the message stays queued (surviving restarts) and the sender sees
# why; a 5xx refusal fails the message for good and the sender is told.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
conf_set smtp retry_min 1
conf_set smtp retry_max 2
tok=$(okuru_user alice sender)
head -c 5000 /dev/urandom >"$T/a.bin"

# mail_of ADDR EXPR - EXPR on the recipient's "mail" object (as m)
mail_of() {
	api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
	json "[$2 for m in [r['mail'] for r in j['recipients'] if r['address'] == '$1']][0]"
}
wait_attempts() { # ADDR N - until the mail to ADDR was tried N times
	for _ in $(seq 1 100); do
		[ "$(mail_of "$1" 'm["attempts"]')" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "mail to $1 not tried $2 times"
}

smtp_start plain
okuru_start
tid=$(new_transfer "$tok")
upload_clean "$tok" "$tid" a.bin "$T/a.bin" >/dev/null
api "$tok" POST "/api/v1/transfers/$tid/send" -H 'Content-Type: application/json' \
	-d '{"recipients":["bob@client.example","carol@client.example"]}' >/dev/null
assert_eq "$(status)" 200 "send"
wait_attempts bob@client.example 2
assert_eq "$(mail_of bob@client.example 'm["state"]')" queued "state without STARTTLS"
assert_contains "$(mail_of bob@client.example 'm["error"]')" "STARTTLS" "reason shown"
assert_eq "$(mail_count)" 0 "messages accepted by a server without STARTTLS"
grep -q "mail.deferred" "$LOG" || fail "no mail.deferred in the log"
assert_eq "$(health 'j["mail"]["status"]')" failing "healthz mail status"
assert_eq "$(health 'j["mail"]["queued"]')" 2 "healthz mail queue"
okuru_stop
ok "no STARTTLS: nothing sent, retried, the sender sees why"

smtp_start starttls --cert "$T/ca/untrusted.pem" --key "$T/ca/untrusted.key"
okuru_start
wait_attempts bob@client.example 4
assert_eq "$(mail_of bob@client.example 'm["state"]')" queued "state with an untrusted certificate"
assert_contains "$(mail_of bob@client.example 'm["error"]')" "certificate" "certificate reason"
assert_eq "$(mail_count)" 0 "messages accepted by an untrusted server"
okuru_stop
ok "untrusted certificate: nothing sent, still queued across a restart"

smtp_start starttls --cert "$T/ca/wrongname.pem" --key "$T/ca/wrongname.key"
okuru_start
wait_attempts bob@client.example 6
assert_eq "$(mail_count)" 0 "messages accepted by a server with another name"
okuru_stop
ok "certificate for another host name: nothing sent"

# TLS 1.2 at most here: the audit record must name the version really negotiated.
smtp_start starttls --reject-rcpt bob@ --max-tls 1.2
okuru_start
mail_wait 2
for _ in $(seq 1 100); do
	[ "$(mail_of bob@client.example 'm["state"]')" = failed ] && break
	sleep 0.1
done
assert_eq "$(mail_of bob@client.example 'm["state"]')" failed "a 550 fails for good"
assert_contains "$(mail_of bob@client.example 'm["error"]')" "550" "refusal shown"
assert_eq "$(mail_of carol@client.example 'm["state"]')" sent "carol's mail, queued across restarts"
mail_to carol@client.example >/dev/null
mf=$(mail_to alice@bank.example)
assert_contains "$(mail_text "$mf")" "bob@client.example" "the sender is told which recipient"
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM outbox WHERE state != 'queued' AND (sealed IS NOT NULL OR wrapped IS NOT NULL)")
assert_eq "$n" 0 "finished messages keep no body or key"
okuru_stop
ok "permanent refusal: failed, the sender is mailed, the others delivered"

# The audit log: each attempt recorded by the system in the outcome's transaction.
aq() { sqlite3 -separator ' ' "$DATA/okuru.db" "$1" | tr '\n' ';'; }
assert_eq "$(aq "SELECT count(*) >= 6, min(outcome), max(json_extract(detail, '$.next_attempt') IS NOT NULL), min(actor_kind || '/' || actor), max(json_extract(detail, '$.tls') IS NULL) FROM audit WHERE event = 'mail.deferred' AND json_extract(detail, '$.recipient') = 'bob@client.example'")" \
	"1 deferred 1 system/okurud 1;" "bob's deferrals"
assert_eq "$(aq "SELECT count(*) >= 2 FROM audit WHERE event = 'mail.deferred' AND json_extract(detail, '$.error') LIKE '%STARTTLS%'")" "1;" "deferred without STARTTLS, why"
assert_eq "$(aq "SELECT count(*) > 0 FROM audit WHERE event = 'mail.deferred' AND json_extract(detail, '$.error') LIKE '%certificate%'")" "1;" "deferred for the certificate, why"
assert_eq "$(aq "SELECT outcome, json_extract(detail, '$.code'), json_extract(detail, '$.error') LIKE '%550%', json_extract(detail, '$.kind') FROM audit WHERE event = 'mail.failed' AND json_extract(detail, '$.recipient') = 'bob@client.example'")" \
	"failed 550 1 link;" "bob's permanent failure"
assert_eq "$(aq "SELECT json_extract(detail, '$.kind') FROM audit WHERE event = 'mail.queued' AND json_extract(detail, '$.recipient') = 'alice@bank.example'")" \
	"mailfail;" "the sender's notice queued with the failure"
assert_eq "$(aq "SELECT count(*) FROM audit WHERE event = 'mail.delivered' AND json_extract(detail, '$.recipient') = 'carol@client.example' AND json_extract(detail, '$.tls') LIKE 'TLS1.2 %'")" "1;" "carol's delivery with the TLS 1.2 the server allowed"
assert_eq "$(mail_meta "$(mail_to carol@client.example)" 'j["tls_version"]')" TLSv1.2 "the server's side of it"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: deferrals with the reason, the permanent failure, the notice, the delivery"

