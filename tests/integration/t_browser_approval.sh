#!/bin/bash
# t_browser_approval.sh - approval (上長承認) and the send delay (誤送信防止)
# in the staff app, in a real browser (tests/js/approval.js): a sender who is
# also an approver in the group sends to a domain that needs approval (the
# page says how many approvals from which group, before and after), nothing
# goes to the recipient; the approver opens the link from the approval mail,
# logs in, lands on that transfer and approves it with a comment; only then
# does the link mail go, and the sender's page (opened from the result
# mail) shows the vote. A second transfer is rejected with a comment that
# the sender reads; the sender is never offered their own transfer
# (self = false). A send under a delay rule is recalled inside its delay.
# Then the database must say the same: states, votes, outbox, audit.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
policy_use <<'EOF'
version = 1;
defaults = { expiry_days = 7; max_expiry_days = 30; download_limit = 5;
             verification = "email-otp"; retention_days = 30; };
rules = (
  { id = "partner-approval"; match = { recipient_domains = [ "partner.example" ]; };
    approval = { group = "compliance"; count = 1; self = false; expire_hours = 24; }; },
  { id = "slow"; match = { recipient_domains = [ "slow.example" ]; }; delay_minutes = 2; }
);
EOF
# The sender is an approver in the approving group too: self = false is what
# keeps them from deciding on their own sends.
staff_user taro approver 'correct horse battery' compliance >/dev/null
staff_user carol approver 'approver password 1' compliance >/dev/null
okuru_start

mkdir -p "$T/up"
# Fixed content (200 KiB), so every run checks the same bytes.
$PY -c 'import hashlib, sys
sys.stdout.buffer.write(b"".join(hashlib.sha256(b"a%d" % i).digest() for i in range(6400)))' >"$T/up/contract-2026.pdf"

browser_run approval.js "$T/up/contract-2026.pdf" bob@partner.example rita@partner.example tom@slow.example

db=$DATA/okuru.db
tid() { sqlq "$db" "SELECT id FROM transfers WHERE subject = :s" s="$1"; }
t1=$(tid "承認テスト <1>")
t2=$(tid "承認テスト <2>")
t3=$(tid "保留テスト")
[ -n "$t1" ] && [ -n "$t2" ] && [ -n "$t3" ] || fail "the three transfers: '$t1' '$t2' '$t3'"
assert_eq "$(sqlq "$db" "SELECT state FROM transfers WHERE id = :t" t="$t1")" sent "approved: sent"
assert_eq "$(sqlq "$db" "SELECT state FROM transfers WHERE id = :t" t="$t2")" rejected "rejected"
assert_eq "$(sqlq "$db" "SELECT state FROM transfers WHERE id = :t" t="$t3")" recalled "recalled"
assert_eq "$(sqlq "$db" "SELECT approvals_needed, approval_group FROM transfers WHERE id = :t" t="$t1")" "1|compliance" "the rule's approval"
assert_eq "$(sqlq "$db" "SELECT approvals_needed FROM transfers WHERE id = :t" t="$t3")" 0 "no approval for the delayed send"
q="SELECT u.name, a.decision, a.comment FROM approvals a JOIN users u ON u.id = a.approver_id WHERE a.transfer_id = :t"
assert_eq "$(sqlq "$db" "$q" t="$t1")" "carol|approve|Checked: the partner contract is signed." "the approval and its comment"
assert_eq "$(sqlq "$db" "$q" t="$t2")" "carol|reject|宛先が違います / wrong recipient" "the rejection and its comment"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM approvals WHERE approver_id = (SELECT id FROM users WHERE name = 'taro')")" 0 "taro never voted"
q="SELECT state FROM outbox WHERE to_addr = :a AND kind = 'link'"
assert_eq "$(sqlq "$db" "$q" a=bob@partner.example)" sent "bob's link mail went after the approval"
assert_eq "$(sqlq "$db" "$q" a=rita@partner.example)" failed "rita's held link mail was cancelled"
assert_eq "$(sqlq "$db" "$q" a=tom@slow.example)" failed "tom's held link mail was cancelled by the recall"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM outbox WHERE to_addr IN ('rita@partner.example', 'tom@slow.example') AND sealed IS NOT NULL")" 0 "their bodies erased"
for a in rita@partner.example tom@slow.example; do
	[ "$(find "$MAILDIR" -name '*.json' -exec grep -l -- "$a" {} + | wc -l)" = 0 ] || fail "$a was mailed"
done
q="SELECT event || ' ' || actor || ' ' || outcome FROM audit
	WHERE (object_id = :t OR json_extract(detail, '\$.transfer') = :t) AND event IN
	('transfer.sent', 'approval.approved', 'approval.rejected', 'transfer.approved', 'transfer.rejected', 'transfer.recalled')
	ORDER BY seq"
assert_eq "$(sqlq "$db" "$q" t="$t1")" "transfer.sent taro ok
approval.approved carol ok
transfer.approved carol ok" "audit of the approval"
assert_eq "$(sqlq "$db" "$q" t="$t2")" "transfer.sent taro ok
approval.rejected carol ok
transfer.rejected carol ok" "audit of the rejection"
assert_eq "$(sqlq "$db" "$q" t="$t3")" "transfer.sent taro ok
transfer.recalled taro ok" "audit of the recall"
q="SELECT json_extract(detail, '\$.comment') FROM audit WHERE event = :e AND json_extract(detail, '\$.transfer') = :t"
assert_eq "$(sqlq "$db" "$q" e=approval.rejected t="$t2")" "宛先が違います / wrong recipient" "the comment in the audit log"
q="SELECT json_extract(detail, '\$.outcome') || ' ' || json_extract(detail, '\$.rules.delay') FROM audit WHERE event = 'policy.decided' AND object_id = :t"
assert_eq "$(sqlq "$db" "$q" t="$t3")" "hold slow" "the delay rule decided the third"
assert_eq "$(sqlq "$db" "SELECT json_extract(detail, '\$.links_ended') FROM audit WHERE event = 'transfer.recalled' AND object_id = :t" t="$t3")" 1 "the recall ended the link"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
okuru_stop
ok "the database agrees with what the pages showed"
