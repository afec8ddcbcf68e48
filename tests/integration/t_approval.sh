#!/bin/bash
# t_approval.sh - the policy applied by the real okurud with a real STARTTLS
# mail server: a denied domain (nothing queued), approval required →
# approve → the link mail goes; reject → nothing ever goes; two approvers;
# self-approval refused; send delay → recall → nothing goes, and a delayed
# send that is not recalled goes when the delay ends; a request to a denied
# address; SIGHUP with a broken policy keeps the old one.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
policy_use <<'EOF'
version = 1;
defaults = { expiry_days = 7; max_expiry_days = 30; download_limit = 5;
             verification = "email-otp"; retention_days = 30; };
extension_types = ( { extensions = [ "pdf" ]; types = [ "application/pdf" ]; } );
rules = (
  { id = "disguised"; match = { type_mismatch = true; };
    deny = "The content of a file does not match its name / 内容と拡張子が一致しません"; },
  { id = "no-webmail"; match = { recipient_domains = [ "*.webmail.example" ]; };
    deny = "Webmail is not allowed / フリーメールには送れません"; },
  { id = "partner-approval"; match = { recipient_domains = [ "partner.example" ]; };
    approval = { group = "compliance"; count = 1; self = false; expire_hours = 24; };
    expiry_days = 3; max_expiry_days = 5; },
  { id = "big-approval"; match = { recipient_domains = [ "big.example" ]; };
    approval = { group = "compliance"; count = 2; self = false; }; },
  { id = "self-ok"; match = { recipient_domains = [ "self.example" ]; };
    approval = { group = "compliance"; count = 1; self = true; }; },
  { id = "slow"; match = { recipient_domains = [ "slow.example" ]; }; delay_minutes = 1; }
);
EOF
tok=$(okuru_user alice sender)
"$OKURUCTL" -c "$CONF" user add carol --email carol@bank.example --role approver \
	--group compliance >"$T/carol" || fail "user add --group"
ctok=$(tail -n 1 "$T/carol")
"$OKURUCTL" -c "$CONF" user add dan --email dan@bank.example --role approver >"$T/dan"
dtok=$(tail -n 1 "$T/dan")
"$OKURUCTL" -c "$CONF" user group dan add compliance >/dev/null || fail "user group add"
"$OKURUCTL" -c "$CONF" user add erin --email erin@bank.example --role approver >"$T/erin"
etok=$(tail -n 1 "$T/erin") # an approver outside the group
"$OKURUCTL" -c "$CONF" user add fay --email fay@bank.example --role approver \
	--group compliance >"$T/fay"
ftok=$(tail -n 1 "$T/fay")
assert_contains "$("$OKURUCTL" -c "$CONF" user show dan)" "groups compliance" "user show"
# At most 32 groups: a 33rd is refused, never silently left out of the policy's view.
for g in $(seq 1 31); do "$OKURUCTL" -c "$CONF" user group erin add "g$g" >/dev/null; done
"$OKURUCTL" -c "$CONF" user group erin add g32 >/dev/null || fail "the 32nd group"
if "$OKURUCTL" -c "$CONF" user group erin add g33 2>"$T/err"; then fail "a 33rd group"; fi
assert_contains "$(cat "$T/err")" "already in 32 groups" "33rd group refused"
if "$OKURUCTL" -c "$CONF" user group erin add "bad/name" 2>/dev/null; then fail "a bad group name"; fi
okuru_start

send() { # TOKEN TID JSON
	api "$1" POST "/api/v1/transfers/$2/send" -H 'Content-Type: application/json' -d "$3" >/dev/null
}
decide() { # TOKEN TID JSON
	api "$1" POST "/api/v1/approvals/$2" -H 'Content-Type: application/json' -d "$3" >/dev/null
}
outbox() { sqlite3 "$DATA/okuru.db" "$1"; }
head -c 100000 /dev/urandom >"$T/a.bin"
prepared() { # -> a transfer of alice's with one clean file
	local t
	t=$(new_transfer "$tok")
	upload_clean "$tok" "$t" report.bin "$T/a.bin" >/dev/null
	echo "$t"
}

# A delayed send first: its delay (one minute) runs while the rest is tested.
tslow=$(prepared)
send "$tok" "$tslow" '{"recipients":["sam@slow.example"],"dry_run":true}'
assert_eq "$(json '(j["outcome"], j["delay_minutes"], j["approvals_needed"])')" "('delay', 1, 0)" "a dry run says the delay in minutes"
send "$tok" "$tslow" '{"recipients":["sam@slow.example","bob@partner.example"],"dry_run":true}'
assert_eq "$(json '(j["outcome"], j["delay_minutes"], j["approvals_needed"], j["approval_group"])')" "('approve', 1, 1, 'compliance')" "and the approval with it"
slow_sent=$(date +%s) # before the send: the release is at least a minute after this
send "$tok" "$tslow" '{"recipients":["sam@slow.example"]}'
assert_eq "$(status)" 202 "delayed send: $(cat "$T/body")"
assert_eq "$(json 'j["state"]')" held "a delayed send is held"
assert_eq "$(json 'j["policy"]["outcome"]')" hold "outcome hold"
assert_eq "$(json '[d["rule"] for d in j["policy"]["decisions"] if d["part"] == "delay"][0]')" slow "rule of the delay"
ok "a send under a delay rule is held (202), with the decision on the transfer"

# A denied domain: 403 with the message, the decision kept, nothing queued.
t1=$(prepared)
send "$tok" "$t1" '{"recipients":["bob@partner.example","x@mail.webmail.example"]}'
assert_eq "$(status)" 403 "denied domain"
assert_eq "$(json 'j["error"]')" "Webmail is not allowed / フリーメールには送れません" "deny message"
assert_eq "$(json '[d["rule"] for d in j["policy"]["decisions"] if d["part"] == "deny"][0]')" no-webmail "deny rule"
assert_contains "$(json '[d["why"] for d in j["policy"]["decisions"] if d["part"] == "deny"][0]')" "x@mail.webmail.example" "deny why"
api "$tok" GET "/api/v1/transfers/$t1" >/dev/null
assert_eq "$(json 'j["state"]')" draft "a denied transfer stays a draft"
assert_eq "$(json 'j["policy"]["outcome"]')" denied "the refusal is recorded on the transfer"
assert_eq "$(outbox "SELECT count(*) FROM outbox WHERE transfer_id = '$t1'")" 0 "nothing queued for a denied send"
assert_eq "$(outbox "SELECT count(*) FROM links WHERE transfer_id = '$t1'")" 0 "no links for a denied send"
ok "a denied domain gets 403 with the rule's message; nothing is queued"

# The detected type reaches the policy: a program named like a PDF is denied.
tfake=$(new_transfer "$tok")
{ printf 'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00'; head -c 4000 /dev/zero; } >"$T/fake.pdf"
upload_clean "$tok" "$tfake" invoice.pdf "$T/fake.pdf" >/dev/null
send "$tok" "$tfake" '{"recipients":["bob@bank.example"]}'
assert_eq "$(status)" 403 "disguised program: $(cat "$T/body")"
assert_eq "$(json '[d["rule"] for d in j["policy"]["decisions"] if d["part"] == "deny"][0]')" disguised "mismatch rule"
assert_contains "$(json '[d["why"] for d in j["policy"]["decisions"] if d["part"] == "deny"][0]')" "application/x-dosexec" "why names the detected type"
ok "the detected type reaches the policy: a program named invoice.pdf is denied"

# Approval: pending, held link mail, approvers mailed, not the sender's link.
n=$(mail_count)
t2=$(prepared)
send "$tok" "$t2" '{"recipients":["bob@partner.example"],"expires_days":10}'
assert_eq "$(status)" 400 "expiry above the rule's maximum"
assert_contains "$(cat "$T/body")" "1 to 5 (policy rule partner-approval)" "expiry limit names the rule"
send "$tok" "$t2" '{"recipients":["bob@partner.example"]}'
assert_eq "$(status)" 202 "approval needed: $(cat "$T/body")"
assert_eq "$(json 'j["state"]')" pending "pending approval"
assert_eq "$(json 'j["approval"]["needed"]')" 1 "one approval"
assert_eq "$(json 'j["approval"]["group"]')" compliance "approval group"
assert_eq "$(json 'j["policy"]["outcome"]')" approval "outcome approval"
assert_contains "$(json 'j["policy"]["reason"]')" "group compliance" "reason names the group"
assert_eq "$(outbox "SELECT held FROM outbox WHERE transfer_id = '$t2' AND kind = 'link'")" 1 "the link mail is held"
mail_wait $((n + 3)) # carol, dan, fay (compliance approvers); not erin
for a in carol dan fay; do
	m=$(mail_to "$a@bank.example")
	assert_contains "$(mail_subject "$m")" "Approval requested" "approval mail to $a"
	assert_contains "$(mail_text "$m")" "bob@partner.example" "recipients in the approval mail"
	assert_contains "$(mail_text "$m")" "report.bin" "files in the approval mail"
	assert_eq "$(mail_link "$m")" "$URL/#/approvals/$t2" "the approval mail opens the app's page of the decision"
done
$PY - "$MAILDIR" <<'EOF' || fail "approval request mailed to someone outside the group"
import glob, json, sys
for meta in glob.glob(sys.argv[1] + "/*.json"):
    if "erin@bank.example" in json.load(open(meta))["rcpt_tos"]:
        sys.exit(1)
EOF
sleep 1
assert_eq "$(outbox "SELECT count(*) FROM outbox WHERE to_addr = 'bob@partner.example'")" 1 "one link mail queued"
assert_eq "$(outbox "SELECT state FROM outbox WHERE to_addr = 'bob@partner.example'")" queued "it waits"
[ "$(find "$MAILDIR" -name '*.json' -exec grep -l 'bob@partner.example' {} + | wc -l)" = 0 ] ||
	fail "a link went out before approval"
ok "approval required: pending (202), link mail held, the group's approvers are mailed"

# Who may decide.
api "$tok" GET /api/v1/approvals >/dev/null
assert_eq "$(status)" 403 "a sender does not list approvals"
api "$etok" GET /api/v1/approvals >/dev/null
assert_eq "$(json 'len(j["pending"])')" 0 "outside the group: nothing to decide"
decide "$etok" "$t2" '{"decision":"approve"}'
assert_eq "$(status)" 403 "approver outside the group"
api "$ctok" GET /api/v1/approvals >/dev/null
assert_eq "$(json 'len(j["pending"])')" 1 "carol sees one pending transfer"
assert_eq "$(json 'j["pending"][0]["id"]')" "$t2" "the pending transfer"
assert_eq "$(json 'j["pending"][0]["files"][0]["sha256"]')" "$(sha "$T/a.bin")" "approvers see the hashes"
assert_eq "$(json 'j["pending"][0]["files"][0]["state"]')" clean "approvers see the verdicts"
assert_eq "$(json 'j["pending"][0]["recipients"][0]["address"]')" bob@partner.example "approvers see the recipients"
decide "$ctok" "$t2" '{"decision":"maybe"}'
assert_eq "$(status)" 400 "bad decision"
decide "$ctok" "$t2" '{"decision":"reject"}'
assert_eq "$(status)" 400 "a rejection needs a comment"
decide "$ctok" "$t2" '{"decision":"approve","extra":1}'
assert_eq "$(status)" 400 "unknown field"
# The recipient's link does not work before approval, even with the token.
tok_link=$(outbox "SELECT count(*) FROM links WHERE transfer_id = '$t2'")
assert_eq "$tok_link" 1 "one link"
ok "only the group's approvers decide; bad decisions are 400"

n=$(mail_count)
decide "$ctok" "$t2" '{"decision":"approve","comment":"OK 確認済み"}'
assert_eq "$(status)" 200 "approve: $(cat "$T/body")"
assert_eq "$(json 'j["decision"]')" approved "final approval"
assert_eq "$(json 'j["state"]')" sent "sent after approval"
assert_eq "$(json 'j["approval"]["votes"][0]["approver"]')" carol "vote recorded"
assert_eq "$(json 'j["approval"]["votes"][0]["comment"]')" "OK 確認済み" "comment recorded"
mail_wait $((n + 2)) # bob's link, alice's notice
mb=$(mail_to bob@partner.example)
link=$(mail_link "$mb")
assert_contains "$link" "/d/" "link mail after approval"
ma=$(mail_to alice@bank.example)
assert_contains "$(mail_text "$ma")" "approved" "the sender is told"
assert_contains "$(mail_text "$ma")" "OK 確認済み" "with the comment"
assert_eq "$(mail_link "$ma")" "$URL/#/transfers/$t2" "the notice opens the app's page of the transfer"
curl -sS --cacert "$DATA/tls/cert.pem" -H 'Accept: application/json' -o "$T/body" -w '%{http_code}' "$link" >"$T/status"
assert_eq "$(status)" 200 "the released link works"
decide "$dtok" "$t2" '{"decision":"approve"}'
assert_eq "$(status)" 409 "no vote after the decision"
ok "approve: the link mail goes, the sender is mailed with the comment, the link works"

# Reject: nothing ever goes to the recipient.
n=$(mail_count)
t3=$(prepared)
send "$tok" "$t3" '{"recipients":["rita@partner.example"]}'
assert_eq "$(status)" 202 "pending again"
mail_wait $((n + 3))
n=$(mail_count)
decide "$dtok" "$t3" '{"decision":"reject","comment":"宛先が違います / wrong recipient"}'
assert_eq "$(status)" 200 "reject"
assert_eq "$(json 'j["decision"]')" rejected "rejected"
assert_eq "$(json 'j["state"]')" rejected "state rejected"
mail_wait $((n + 1))
assert_contains "$(mail_text "$(mail_to alice@bank.example)")" "wrong recipient" "rejection notice with comment"
assert_eq "$(outbox "SELECT state || ':' || last_error FROM outbox WHERE to_addr = 'rita@partner.example'")" "failed:revoked before it was sent" "held mail cancelled"
assert_eq "$(outbox "SELECT count(*) FROM outbox WHERE to_addr = 'rita@partner.example' AND sealed IS NOT NULL")" 0 "its body erased"
decide "$ftok" "$t3" '{"decision":"approve"}'
assert_eq "$(status)" 409 "no approval after a rejection"
sleep 1
[ "$(find "$MAILDIR" -name '*.json' -exec grep -l 'rita@partner.example' {} + | wc -l)" = 0 ] ||
	fail "a rejected transfer mailed its recipient"
ok "reject: nothing is sent to the recipient, the sender gets the comment"

# Two approvers; the sender cannot approve their own (self = false).
"$OKURUCTL" -c "$CONF" user group alice add compliance >/dev/null
api "$tok" GET /api/v1/approvals >/dev/null
assert_eq "$(status)" 403 "still a sender"
t4=$(prepared)
send "$tok" "$t4" '{"recipients":["ben@big.example"]}'
assert_eq "$(status)" 202 "two approvals"
assert_eq "$(json 'j["approval"]["needed"]')" 2 "needs two"
decide "$ctok" "$t4" '{"decision":"approve"}'
assert_eq "$(json 'j["decision"]')" recorded "first of two"
assert_eq "$(json 'j["state"]')" pending "still pending"
decide "$ctok" "$t4" '{"decision":"approve"}'
assert_eq "$(status)" 409 "no second vote by the same approver"
decide "$ftok" "$t4" '{"decision":"approve"}'
assert_eq "$(json 'j["decision"]')" approved "second approval releases"
ok "two approvals needed: one is recorded, the second releases; nobody votes twice"

# An admin in the group who owns the transfer cannot approve it when self = false.
atok=$(okuru_user root admin)
"$OKURUCTL" -c "$CONF" user group root add compliance >/dev/null
t5=$(new_transfer "$atok")
upload_clean "$atok" "$t5" r.bin "$T/a.bin" >/dev/null
send "$atok" "$t5" '{"recipients":["pat@partner.example"]}'
assert_eq "$(status)" 202 "admin's send pending"
decide "$atok" "$t5" '{"decision":"approve"}'
assert_eq "$(status)" 403 "no self-approval"
assert_contains "$(cat "$T/body")" "your own transfer" "self-approval reason"
t6=$(new_transfer "$atok")
upload_clean "$atok" "$t6" r.bin "$T/a.bin" >/dev/null
send "$atok" "$t6" '{"recipients":["sue@self.example"]}'
decide "$atok" "$t6" '{"decision":"approve"}'
assert_eq "$(json 'j["decision"]')" approved "self-approval where the rule allows it"
# An admin who presses send on someone else's transfer is not its approver either.
t6b=$(prepared)
send "$atok" "$t6b" '{"recipients":["pam@partner.example"]}'
assert_eq "$(status)" 202 "admin sends alice's transfer"
decide "$atok" "$t6b" '{"decision":"approve"}'
assert_eq "$(status)" 403 "whoever pressed send does not approve"
ok "self-approval follows the rule (owner and whoever pressed send)"

# Not enough approvers in the group: refused at send, not left to lapse.
"$OKURUCTL" -c "$CONF" user group dan remove compliance >/dev/null
"$OKURUCTL" -c "$CONF" user group fay remove compliance >/dev/null
"$OKURUCTL" -c "$CONF" user group carol remove compliance >/dev/null
t7=$(prepared)
send "$tok" "$t7" '{"recipients":["ben@big.example"]}'
assert_eq "$(status)" 409 "too few approvers"
assert_contains "$(cat "$T/body")" "needs 2 approvals from group compliance, but only 1 user can give them" "why: only root is left"
ok "a send needing more approvers than the group has is refused (409)"

# Recall inside the delay: nothing goes.
t8=$(prepared)
send "$tok" "$t8" '{"recipients":["tom@slow.example"]}'
assert_eq "$(json 'j["state"]')" held "held"
api "$tok" DELETE "/api/v1/transfers/$t8" >/dev/null
assert_eq "$(status)" 200 "recall"
assert_eq "$(json 'j["state"]')" recalled "state recalled"
assert_eq "$(outbox "SELECT state FROM outbox WHERE to_addr = 'tom@slow.example'")" failed "the held mail is cancelled"
grep -q "event=transfer.recalled transfer=$t8" "$LOG" || fail "no recall in the log"
ok "recall inside the send delay cancels the mail"

# A request to a denied address is refused; an allowed one records its decision.
api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' -d '{"address":"q@x.webmail.example"}' >/dev/null
assert_eq "$(status)" 403 "request to a denied domain"
assert_eq "$(json 'j["policy"]["outcome"]')" denied "request decision"
api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' -d '{"address":"q@partner.example","expires_days":6}' >/dev/null
assert_eq "$(status)" 400 "request expiry above the rule's maximum"
api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' -d '{"address":"q@partner.example"}' >/dev/null
assert_eq "$(status)" 201 "request allowed: $(cat "$T/body")"
assert_eq "$(json '[d["rule"] for d in j["policy"]["decisions"] if d["part"] == "expiry"][0]')" partner-approval "request expiry decided by the rule"
ok "requests: a denied address is refused (403), the expiry follows the rule"

# SIGHUP with a broken policy keeps the old one; a good one is taken.
cp "$T/test.policy" "$T/good.policy"
printf 'version = 1;\nrules = ( { id = "x"; deny = 5; } );\n' >"$T/test.policy"
kill -HUP "$PID"
for _ in $(seq 1 50); do grep -q "event=reload.failed" "$LOG" && break; sleep 0.1; done
grep "event=reload.failed" "$LOG" | grep -q "test.policy:2" || fail "reload error without file:line"
t9=$(prepared)
send "$tok" "$t9" '{"recipients":["y@a.webmail.example"]}'
assert_eq "$(status)" 403 "the old policy still denies"
printf 'version = 1;\nrules = ();\n' >"$T/test.policy"
kill -HUP "$PID"
for _ in $(seq 1 50); do [ "$(grep -c 'event=policy.loaded' "$LOG")" -ge 2 ] && break; sleep 0.1; done
send "$tok" "$t9" '{"recipients":["y@a.webmail.example"]}'
assert_eq "$(status)" 200 "the new policy allows it"
ok "SIGHUP: a broken policy is refused with file:line and the old one kept; a good one is taken"

# The delayed send from the start goes out once its minute is over.
left=$((slow_sent + 62 - $(date +%s)))
[ "$left" -le 0 ] || sleep "$left"
for _ in $(seq 1 100); do
	find "$MAILDIR" -name '*.json' -exec grep -l 'sam@slow.example' {} + >/dev/null 2>&1 && break
	sleep 0.1
done
m=$(mail_to sam@slow.example)
assert_contains "$(mail_link "$m")" "/d/" "the delayed link mail"
sent_at=$(outbox "SELECT sent_at FROM outbox WHERE to_addr = 'sam@slow.example'")
release=$(outbox "SELECT release_at FROM transfers WHERE id = '$tslow'")
[ "$release" -ge $((slow_sent + 60)) ] || fail "release $release is not a minute after the send ($slow_sent)"
[ "$sent_at" -ge "$release" ] || fail "the delayed mail left before its release ($sent_at < $release)"
api "$tok" GET "/api/v1/transfers/$tslow" >/dev/null
assert_eq "$(json 'j["state"]')" sent "no longer held"
okuru_stop
ok "a delayed send goes out when the delay ends, not before"

# The audit log: each decision, vote and its consequence, by whoever made it.
assert_eq "$(arec "$t1")" "transfer.created|user|alice|ok|
file.uploaded|user|alice|ok|
policy.decided|user|alice|denied|
transfer.send_refused|user|alice|denied|" "audit of a denied send"
assert_eq "$(adet policy.decided "$t1" 'd["rules"]["deny"], d["outcome"]')" "('no-webmail', 'denied')" "the deciding rule"
assert_eq "$(adet policy.decided "$tfake" 'd["rules"]["deny"]')" disguised "the type-mismatch rule"
assert_eq "$(arec "$t2")" "transfer.created|user|alice|ok|
file.uploaded|user|alice|ok|
policy.decided|user|alice|approval|
transfer.sent|user|alice|ok|
link.created|user|alice|ok|bob@partner.example
approval.approved|user|carol|ok|
transfer.approved|user|carol|ok|" "audit of an approved transfer"
assert_eq "$(adet policy.decided "$t2" 'd["rules"]["approval"], d["rules"]["expiry"], d["rules"]["delay"]')" \
	"('partner-approval', 'partner-approval', 'default')" "rules of each part"
assert_eq "$(adet transfer.sent "$t2" 'd["approvals_needed"], d["state"]')" "(1, 'pending')" "sent, pending approval"
q="SELECT json_extract(detail, '\$.comment') FROM audit WHERE event = 'approval.approved' ORDER BY seq LIMIT 1"
assert_eq "$(sqlite3 "$DATA/okuru.db" "$q")" "OK 確認済み" "the approver's comment"
assert_eq "$(arec "$t3" | tail -n 2)" "approval.rejected|user|dan|ok|
transfer.rejected|user|dan|ok|" "audit of a rejection"
assert_eq "$(adet transfer.rejected "$t3" 'd["links_ended"]')" 1 "the rejection ends the link"
assert_eq "$(arec "$t4" | tail -n 3)" "approval.approved|user|carol|ok|
approval.approved|user|fay|ok|
transfer.approved|user|fay|ok|" "two votes, the second releases"
assert_eq "$(adet transfer.approved "$t4" 'd["approvals"]')" 2 "approvals counted"
assert_eq "$(arec "$t7" | tail -n 1)" "transfer.send_refused|user|alice|conflict|" "too few approvers"
assert_eq "$(arec "$t8" | tail -n 1)" "transfer.recalled|user|alice|ok|" "recall"
assert_eq "$(adet transfer.recalled "$t8" 'd["links_ended"]')" 1 "the recall ends the link"
assert_eq "$(adet policy.decided "$tslow" 'd["outcome"], d["rules"]["delay"]')" "('hold', 'slow')" "a delayed send"
q="SELECT actor || ' ' || outcome || ' ' || json_extract(detail, '\$.recipient') || ' ' ||
	json_extract(detail, '\$.rules.deny') FROM audit WHERE event = 'policy.decided' AND object_kind = 'request'"
assert_eq "$(sqlite3 "$DATA/okuru.db" "$q")" "alice denied q@x.webmail.example no-webmail" "a denied request's decision"
q="SELECT actor || ' ' || json_extract(detail, '\$.recipient') FROM audit WHERE event = 'request.created'"
assert_eq "$(sqlite3 "$DATA/okuru.db" "$q")" "alice q@partner.example" "request.created"
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event LIKE 'approval.%' AND actor IN ('erin', 'alice')")
assert_eq "$n" 0 "refused votes change nothing and are not recorded"
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event LIKE 'approval.%' AND actor = 'root'")
assert_eq "$n" 1 "root's one allowed self-approval (t6), not the refused ones"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: decisions with their rules, votes, approvals, rejection and recall recorded"
