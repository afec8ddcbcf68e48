#!/bin/bash
# t_browser_request.sh - a counterparty's upload page in a real browser
# (tests/js/request.js): upload requests made with the API, one to a
# counterparty who reads Japanese (on a phone), one in English (on a
# desktop); each confirms the address with the mailed code, chooses a
# clean file and an EICAR file at once, sees a progress bar per file reach
# its end and the EICAR file blocked, and says done. The requester then
# downloads the clean file with the API: the bytes are the counterparty's.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
tok=$(okuru_user alice sender)
okuru_start

mkdir -p "$T/up"
# Fixed content, so every run checks the same bytes.
$PY -c 'import hashlib, sys
sys.stdout.buffer.write(b"".join(hashlib.sha256(b"q%d" % i).digest() for i in range(40000)))' >"$T/up/quote-2026.bin"
eicar >"$T/up/eicar.com.txt"
message='Please upload the signed quote <b>&</b> "the form"'

# request ADDR -> prints "TID LINK"
request() {
	n=$(mail_count)
	api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' \
		-d "$(jq -n --arg a "$1" --arg m "$message" '{address: $a, message: $m, max_files: 5, max_bytes: 5000000}')" >/dev/null
	[ "$(status)" = 201 ] || fail "request for $1: $(status) $(cat "$T/body")"
	rt=$(json 'j["id"]')
	mail_wait $((n + 1))
	echo "$rt $(mail_link "$(mail_to "$1")")"
}
read -r tid_ja link_ja <<<"$(request kenji@client.example)"
read -r tid_en link_en <<<"$(request olivia@client.example)"
ok "two upload requests mailed"

browser_run request.js "$T/up/quote-2026.bin" "$T/up/eicar.com.txt" "$message" alice \
	"ja=phone=kenji@client.example=$link_ja" "en=desktop=olivia@client.example=$link_en"

for tid in "$tid_ja" "$tid_en"; do
	api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
	assert_eq "$(json 'j["request"]["link"]')" completed "request $tid completed"
	assert_eq "$(json 'sorted((f["name"], f["state"]) for f in j["files"])')" \
		"[('eicar.com.txt', 'infected'), ('quote-2026.bin', 'clean')]" "files of $tid"
	fc=$(json '[f["id"] for f in j["files"] if f["name"] == "quote-2026.bin"][0]')
	fe=$(json '[f["id"] for f in j["files"] if f["name"] == "eicar.com.txt"][0]')
	api "$tok" GET "/api/v1/transfers/$tid/files/$fc" >/dev/null
	assert_eq "$(status)" 200 "requester downloads the clean file"
	assert_eq "$(sha "$T/body")" "$(sha "$T/up/quote-2026.bin")" "hash of the uploaded file"
	api "$tok" GET "/api/v1/transfers/$tid/files/$fe" >/dev/null
	assert_eq "$(status)" 409 "the EICAR file is blocked for the requester too"
done
okuru_stop
ok "the requester has the clean files, byte for byte; EICAR stays blocked"
