#!/bin/bash
# t_browser_request.sh - a counterparty's upload page in a real browser
# (tests/js/request.js): upload requests made with the API, one to a
# counterparty who reads Japanese (on a phone), one in English (on a
# desktop); each confirms the address with the mailed code, chooses a
# clean file and an EICAR file at once, sees a progress bar per file reach
# its end and the EICAR file blocked, and says done. The requester then
# downloads the clean file with the API: the bytes are the counterparty's.
# A third counterparty (Japanese, phone) uploads a 10 MiB file whose second
# PATCH is cut off by a reload; chosen again, it resumes at the server's
# offset (tus), and the stored file is the source byte for byte.
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
$PY -c 'import hashlib, sys
sys.stdout.buffer.write(b"".join(hashlib.sha256(b"r%d" % i).digest() for i in range(327680)))' >"$T/up/ledger-2026.bin"
message='Please upload the signed quote <b>&</b> "the form"'

# request ADDR -> prints "TID LINK"
request() {
	n=$(mail_count)
	api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' \
		-d "$(jq -n --arg a "$1" --arg m "$message" --argjson b "${2:-5000000}" '{address: $a, message: $m, max_files: 5, max_bytes: $b}')" >/dev/null
	[ "$(status)" = 201 ] || fail "request for $1: $(status) $(cat "$T/body")"
	rt=$(json 'j["id"]')
	mail_wait $((n + 1))
	echo "$rt $(mail_link "$(mail_to "$1")")"
}
read -r tid_ja link_ja <<<"$(request kenji@client.example)"
read -r tid_en link_en <<<"$(request olivia@client.example)"
read -r tid_re link_re <<<"$(request yuki@client.example 20000000)"
ok "three upload requests mailed"

browser_run request.js "$T/up/quote-2026.bin" "$T/up/eicar.com.txt" "$message" alice \
	"ja=phone=kenji@client.example=$link_ja" "en=desktop=olivia@client.example=$link_en" \
	"RESUME=ja=phone=yuki@client.example=$link_re=$T/up/ledger-2026.bin"

# The resumed upload: one creation, its first PATCH's 8 MiB durable, one file.
api "$tok" GET "/api/v1/transfers/$tid_re" >/dev/null
assert_eq "$(json '[(f["name"], f["state"], f["sha256"]) for f in j["files"]]')" \
	"[('ledger-2026.bin', 'clean', '$(sha "$T/up/ledger-2026.bin")')]" "the resumed file"
fr=$(json 'j["files"][0]["id"]')
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'upload.created'
	AND json_extract(detail, '\$.transfer') = :t" t="$tid_re")" 1 "one creation: the upload resumed"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT actor || ' ' || json_extract(detail, '\$.offset')
	FROM audit WHERE event = 'upload.appended' AND object_id = :o ORDER BY seq LIMIT 1" o="$fr")" \
	"yuki@client.example 8388608" "the first PATCH's durable offset, by the counterparty"
api "$tok" GET "/api/v1/transfers/$tid_re/files/$fr" >/dev/null
assert_eq "$(sha "$T/body")" "$(sha "$T/up/ledger-2026.bin")" "the requester downloads the resumed file"
ok "the resumed upload is one file, the source byte for byte"

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
