#!/bin/bash
# t_browser_staff.sh - the staff app in a real browser (tests/js/staff.js):
# a sender logs in with a password and sets up two-step login from the QR
# page, uploads a clean file and an EICAR file (progress bars, EICAR shown
# blocked and removed), checks the policy and sends; the recipient opens
# the mailed link, types the mailed code and downloads (hash matches); the
# sender sees the receipt; an auditor finds the events, exports CSV and
# checks integrity. Then the database must say the same.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
staff_user taro sender 'correct horse battery' >/dev/null
staff_user kansa auditor 'auditor password 1' >/dev/null
okuru_start

mkdir -p "$T/up"
# Fixed content (3 MiB), so every run checks the same bytes.
$PY -c 'import hashlib, sys
sys.stdout.buffer.write(b"".join(hashlib.sha256(b"s%d" % i).digest() for i in range(98304)))' >"$T/up/report-2026Q3.pdf"
eicar >"$T/up/eicar.com.txt"

browser_run staff.js "$T/up/report-2026Q3.pdf" "$T/up/eicar.com.txt" client@partner.example

db=$DATA/okuru.db
tid=$(sqlq "$db" "SELECT id FROM transfers WHERE state = 'sent'")
assert_eq "$(sqlq "$db" "SELECT count(*) FROM files WHERE transfer_id = :t" t="$tid")" 1 "one file left in the transfer"
assert_eq "$(sqlq "$db" "SELECT name, state FROM files WHERE transfer_id = :t" t="$tid")" "report-2026Q3.pdf|clean" "the clean file was sent"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM audit WHERE event = 'file.removed' AND json_extract(detail, '\$.name') = 'eicar.com.txt'")" 1 "EICAR removed, recorded"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM downloads WHERE complete = 1")" 1 "one complete download"
assert_eq "$(sqlq "$db" "SELECT method || ' ' || stage FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = 'taro')")" "password full" "taro's session"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM users WHERE totp_wrapped IS NOT NULL")" 2 "both enrolled a second factor"
assert_eq "$(sqlq "$db" "SELECT count(*) FROM audit WHERE event = 'auth.login_failed' AND object_id = 'taro'")" 1 "the wrong password recorded"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
okuru_stop
ok "the database agrees with what the pages showed"
