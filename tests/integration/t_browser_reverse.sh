#!/bin/bash
# t_browser_reverse.sh - a file request (reverse upload) through the staff
# app in a real browser (tests/js/reverse.js): a sender asks a counterparty
# for files on the Requests page; the counterparty uploads a clean file and
# an EICAR file from the mailed link and says done; the sender follows the
# "files uploaded" mail into the app (through the login), downloads the
# clean file and finds the EICAR file blocked. Then the database must say
# the same: the request, its link, the files and their states, the audit.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
staff_user hanako sender 'hanako password 26' >/dev/null
okuru_start

mkdir -p "$T/up"
# Fixed content (1.5 MiB), so every run checks the same bytes.
$PY -c 'import hashlib, sys
sys.stdout.buffer.write(b"".join(hashlib.sha256(b"r%d" % i).digest() for i in range(49152)))' >"$T/up/contract-signed.pdf"
eicar >"$T/up/eicar.com.txt"
addr=kenji@client.example
message='Please upload the signed contract & the form <b>'

browser_run reverse.js "$T/up/contract-signed.pdf" "$T/up/eicar.com.txt" "$addr" "$message" hanako 'hanako password 26'

db=$DATA/okuru.db
tid=$(sqlq "$db" "SELECT id FROM transfers WHERE origin = 'request'")
assert_eq "$(sqlq "$db" "SELECT count(*) FROM transfers")" 1 "one transfer: the request"
assert_eq "$(sqlq "$db" "SELECT t.state, u.name, t.subject, t.message FROM transfers t JOIN users u ON u.id = t.owner_id WHERE t.id = :t" t="$tid")" \
	"draft|hanako|Signed contract 2026|$message" "the request's transfer, as typed"
assert_eq "$(sqlq "$db" "SELECT address, max_files, verified_at > 0, completed_at > 0, revoked_at,
	expires_at - created BETWEEN 5 * 86400 - 5 AND 5 * 86400 + 5 FROM links WHERE kind = 'upload' AND transfer_id = :t" t="$tid")" \
	"$addr|3|1|1|0|1" "the upload link: counterparty, 3 files, message, 5 days, confirmed, completed"
assert_eq "$(sqlq "$db" "SELECT name || ' ' || state || ' ' || sha256 FROM files WHERE transfer_id = :t ORDER BY name" t="$tid")" \
	"contract-signed.pdf clean $(sha "$T/up/contract-signed.pdf")
eicar.com.txt infected $(sha "$T/up/eicar.com.txt")" "the files, their states and hashes"
fc=$(sqlq "$db" "SELECT id FROM files WHERE transfer_id = :t AND name = 'contract-signed.pdf'" t="$tid")
fe=$(sqlq "$db" "SELECT id FROM files WHERE transfer_id = :t AND name = 'eicar.com.txt'" t="$tid")

ev() { # EVENT OBJECT -> actor_kind actor outcome, one line per record
	sqlq "$db" "SELECT actor_kind || ' ' || actor || ' ' || outcome FROM audit WHERE event = :e AND object_id = :o ORDER BY seq" e="$1" o="$2"
}
assert_eq "$(sqlq "$db" "SELECT actor_kind || ' ' || actor || ' ' || outcome FROM audit WHERE event = 'request.created' AND object_id = :t" t="$tid")" \
	"user hanako ok" "request.created by the sender"
assert_eq "$(ev file.uploaded "$fc")" "recipient $addr ok" "the clean upload, by the counterparty"
assert_eq "$(ev file.uploaded "$fe")" "recipient $addr ok" "the EICAR upload, by the counterparty"
assert_eq "$(sqlq "$db" "SELECT actor_kind || ' ' || actor || ' ' || outcome FROM audit WHERE event = 'request.completed' AND json_extract(detail, '\$.transfer') = :t" t="$tid")" \
	"recipient $addr ok" "request.completed, by the counterparty"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM audit WHERE event = 'mail.queued' AND json_extract(detail, '\$.kind') = 'uploaded' AND json_extract(detail, '\$.recipient') = 'hanako@bank.example'")" \
	1 "the sender's notice queued"
assert_eq "$(ev file.downloaded "$fc")" "user hanako ok" "the sender's download from the app, whole"
assert_eq "$(sqlq "$db" "SELECT json_extract(detail, '\$.bytes') FROM audit WHERE event = 'file.downloaded' AND object_id = :f" f="$fc")" \
	"$(stat -c %s "$T/up/contract-signed.pdf")" "every byte went out"
assert_eq "$(ev file.downloaded "$fe")" "" "no download of the EICAR file"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = 'hanako') AND stage = 'full'")" \
	2 "two sessions of the sender: the first login and the one through the mailed link"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
okuru_stop
ok "the database agrees with what the pages showed"
