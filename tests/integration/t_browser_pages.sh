#!/bin/bash
# t_browser_pages.sh - every staff page in a real browser (tests/js/pages.js),
# in Japanese and English, on a laptop and a phone: login, enrolment, send,
# my transfers, a transfer, requests, approvals, audit (results and the
# integrity check), administration (users, scanner, policy). Server errors
# are said in Japanese on a Japanese page (a policy denial, a file over the
# size limit, an unknown transfer); a session ended on the server sends the
# app back to the login and, after it, to the same page; a change without
# the CSRF header or from a foreign Origin is refused. Then the database
# must say that nothing the refused requests asked for happened.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
# A file over 2 MiB is refused (the error the app must say in Japanese).
conf_set limits max_file_size 2097152
policy_use <<'EOF'
version = 1;
defaults = { expiry_days = 7; max_expiry_days = 30; download_limit = 5;
             verification = "email-otp"; retention_days = 30; };
rules = (
  { id = "no-webmail"; match = { recipient_domains = [ "*.webmail.example" ]; };
    deny = "Webmail is not allowed / フリーメールには送れません"; },
  { id = "partner-approval"; match = { recipient_domains = [ "partner.example" ]; };
    approval = { group = "compliance"; count = 1; self = false; expire_hours = 24; }; }
);
EOF

# One user of each role per language; the senders' tokens make the data.
tok_ja=$(staff_user taro sender 'taro password 1')
staff_user hana approver 'hana password 1' compliance >/dev/null
staff_user kansa auditor 'kansa password 1' >/dev/null
staff_user kanri admin 'kanri password 1' >/dev/null
tok_en=$(staff_user tom sender 'tom password 12')
staff_user anna approver 'anna password 1' compliance >/dev/null
staff_user audrey auditor 'audrey password 1' >/dev/null
staff_user adam admin 'adam password 12' >/dev/null
okuru_start

head -c 200000 /dev/zero | tr '\0' 'a' >"$T/report.txt"
# Data for SENDER's pages: a sent transfer, one waiting for approval, a request.
data() { # TOKEN SUBJECT -> the sent transfer's id
	local tok=$1 t p
	api "$tok" POST /api/v1/transfers -H 'Content-Type: application/json' \
		-d "{\"subject\":\"$2\"}" >/dev/null
	[ "$(status)" = 201 ] || fail "create transfer: $(status)"
	t=$(json 'j["id"]')
	upload_clean "$tok" "$t" report-q3.txt "$T/report.txt" >/dev/null
	api "$tok" POST "/api/v1/transfers/$t/send" -H 'Content-Type: application/json' \
		-d '{"recipients":["client@customer.example"]}' >/dev/null
	[ "$(status)" = 200 ] || fail "send: $(status) $(cat "$T/body")"
	p=$(new_transfer "$tok")
	upload_clean "$tok" "$p" contract.txt "$T/report.txt" >/dev/null
	api "$tok" POST "/api/v1/transfers/$p/send" -H 'Content-Type: application/json' \
		-d '{"recipients":["legal@partner.example"]}' >/dev/null
	[ "$(status)" = 202 ] && [ "$(json 'j["state"]')" = pending ] || fail "approval send: $(cat "$T/body")"
	api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' \
		-d "{\"address\":\"dan@client.example\",\"subject\":\"$2\",\"max_files\":3}" >/dev/null
	[ "$(status)" = 201 ] || fail "request: $(status) $(cat "$T/body")"
	echo "$t"
}
tid_ja=$(data "$tok_ja" "四半期報告書")
tid_en=$(data "$tok_en" "Quarterly report")
db=$DATA/okuru.db
before=$(sqlq "$db" "SELECT count(*) FROM transfers")
exp_before=$(sqlq "$db" "SELECT group_concat(expires_at) FROM links WHERE transfer_id = :t" t="$tid_ja")

# An oversized file (3 MiB) for the size-limit error.
head -c 3145728 /dev/zero >"$T/too-big.bin"
# The EICAR file whose send the policy blocks.
eicar >"$T/eicar.com.txt"
browser_run pages.js "$CONF" "$tid_ja" "$tid_en" "$T/report.txt" "$T/too-big.bin" "$T/eicar.com.txt"

# The refused requests changed nothing: no transfer from the forged requests
# (only the control request and the drafts of the denied and blocked
# sends and of the oversized file are new), the
# extension tried after the session ended was not made.
assert_eq "$(sqlq "$db" "SELECT count(*) FROM transfers WHERE subject = 'csrf-forged'")" 0 "no transfer from a forged request"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM transfers WHERE subject = 'csrf-control'")" 1 "the control request with the token made one"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM transfers")" "$((before + 4))" "transfers: the control, the drafts of the denied send, the oversized file and the blocked send"
assert_eq "$(sqlq "$db" "SELECT group_concat(expires_at) FROM links WHERE transfer_id = :t" t="$tid_ja")" "$exp_before" "no extension after the session ended"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM audit WHERE event = 'auth.failed' AND json_extract(detail, '\$.reason') = 'csrf'")" 2 "both forged requests recorded"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM transfers WHERE state = 'draft' AND CASE WHEN json_valid(policy) THEN json_extract(policy, '\$.outcome') END = 'denied'")" 1 "the denied send stays a draft with the decision"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM links WHERE address = 'friend@mail.webmail.example'")" 0 "no link to the denied recipient"
assert_eq "$(sqlq "$db" "SELECT json_extract(policy, '\$.blocked.file') || ' ' || json_extract(policy, '\$.blocked.cause') FROM transfers WHERE state = 'draft' AND CASE WHEN json_valid(policy) THEN json_extract(policy, '\$.outcome') END = 'blocked'")" "eicar.com.txt infected" "the blocked send stays a draft, its decision naming the file"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM links WHERE address = 'client@customer.example' AND transfer_id IN (SELECT id FROM transfers WHERE state = 'draft')")" 0 "no link from the blocked send"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM files WHERE name = 'too-big.bin'")" 0 "the oversized file was not stored"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
okuru_stop
ok "the database agrees: the refused requests changed nothing"
