#!/bin/bash
# t_browser_recipient.sh - the recipient's pages in a real browser
# (tests/js/recipient.js): a transfer sent with the API to one recipient
# who reads Japanese and one who reads English, each opening the mailed
# link in Chromium on a phone and on a desktop, asking for the one-time
# code, typing a wrong one, then the mailed one, and downloading through
# the page; the downloaded bytes hash like the sender's file. Screenshots
# of every step in both languages are kept (lib.sh browser_run).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
tok=$(okuru_user alice sender)
okuru_start

# Fixed content, so every run checks the same bytes.
$PY -c 'import hashlib, sys
sys.stdout.buffer.write(b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(5000)))' >"$T/src.bin"
# Markup in every value the sender controls: the page must show it as text.
name='決算 "Q3" <final> & notes.bin'
subject='Q3 <b>report</b>'
message='Please check & confirm <script>alert(1)</script> "today"'
api "$tok" POST /api/v1/transfers -H 'Content-Type: application/json' \
	-d "$(jq -n --arg s "$subject" '{subject: $s}')" >/dev/null
assert_eq "$(status)" 201 "transfer: $(cat "$T/body")"
tid=$(json 'j["id"]')
upload_clean "$tok" "$tid" "$(jq -rn --arg n "$name" '$n|@uri')" "$T/src.bin" >/dev/null
api "$tok" POST "/api/v1/transfers/$tid/send" -H 'Content-Type: application/json' \
	-d "$(jq -n --arg m "$message" '{recipients: ["yuki@client.example", "emma@client.example"],
		message: $m, verification: "email-otp", download_limit: 2}')" >/dev/null
assert_eq "$(status)" 200 "send: $(cat "$T/body")"
mail_wait 2
link_ja=$(mail_link "$(mail_to yuki@client.example)")
link_en=$(mail_link "$(mail_to emma@client.example)")
ok "a clean file sent with e-mail codes to two recipients"

browser_run recipient.js "$T/src.bin" "$name" "$subject" "$message" alice \
	"ja=yuki@client.example=$link_ja" "en=emma@client.example=$link_en"

# What the browser did is what the server recorded.
n=$(sqlq "$DATA/okuru.db" "SELECT count(*) FROM downloads WHERE complete = 1")
assert_eq "$n" 4 "complete downloads recorded (two per recipient)"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'otp.verified' AND outcome = 'ok'")" 2 \
	"one verification per recipient"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'otp.failed'")" 2 \
	"one wrong code per recipient recorded"
okuru_stop
ok "the server recorded the browser's verifications and downloads"
