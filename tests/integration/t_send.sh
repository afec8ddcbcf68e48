#!/bin/bash
# t_send.sh - the whole send journey against a real SMTP server with
# STARTTLS: send → link mail over TLS → page → one-time code by mail →
# verify → download (resumed with Range) → hash matches → the sender's
# receipt; then the ways a link must stop working.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
tok=$(okuru_user alice sender)
okuru_start

# rcpt NAME METHOD URL [curl args] - a recipient's browser (own cookie jar); body in $T/body
rcpt() {
	name=$1 method=$2 url=$3
	shift 3
	curl -sS --cacert "$DATA/tls/cert.pem" -X "$method" -c "$T/jar.$name" -b "$T/jar.$name" \
		-o "$T/body" -w '%{http_code}' "$@" "$url" >"$T/status" || true
}
rjson() { rcpt "$@" -H 'Accept: application/json'; }
send() { # TID JSON
	api "$tok" POST "/api/v1/transfers/$1/send" -H 'Content-Type: application/json' -d "$2" >/dev/null
}

tid=$(new_transfer "$tok")
head -c 300000 /dev/urandom >"$T/a.bin"
fid=$(upload_clean "$tok" "$tid" "a.bin" "$T/a.bin")
fid_a=$fid # upload_clean, called without $(...), sets fid

# Nothing is sent while a file has not passed the scan.
tid_bad=$(new_transfer "$tok")
sh "$SCRIPTS/eicar.sh" >"$T/eicar.txt"
bad_fid=$(upload "$tok" "$tid_bad" eicar.txt "$T/eicar.txt")
[ "$(wait_scan "$tok" "$tid_bad" "$bad_fid")" = infected ] || fail "EICAR not infected"
send "$tid_bad" '{"recipients":["bob@client.example"]}'
assert_eq "$(status)" 409 "send with an infected file"
assert_contains "$(cat "$T/body")" "file eicar.txt is infected" "infected refusal reason"
assert_eq "$(json 'j["policy"]["outcome"]')" blocked "the refusal carries the decision"
assert_eq "$(json 'j["policy"]["blocked"]["file"] + " " + j["policy"]["blocked"]["cause"] + " " + j["code"]')" "eicar.txt infected policy_blocked" "the refusal names the file that stops it"
send "$tid" '{"recipients":["bob@client.example"],"verification":"none"}'
assert_eq "$(status)" 400 "verification none where the policy wants email-otp"
assert_contains "$(cat "$T/body")" "verification must be email-otp or passphrase here (policy rule default)" "why none is refused"
send "$tid" '{"recipients":["bob@client.example","BOB@client.example"]}'
assert_eq "$(status)" 400 "duplicate recipient"
send "$tid" '{"recipients":["bob@client.example"],"expires_days":31}'
assert_eq "$(status)" 400 "expiry over the maximum"
send "$tid" '{"recipients":["not an address"]}'
assert_eq "$(status)" 400 "bad address"
send "$tid" '{"recipients":["bob@client.example"],"bcc":"x"}'
assert_eq "$(status)" 400 "unknown field"
[ "$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM outbox")" = 0 ] || fail "a refused send queued mail"
[ "$(mail_count)" = 0 ] || fail "a refused send mailed someone"
ok "send refuses infected content and bad requests, and mails nobody"

assert_eq "$(arec "$tid_bad")" "transfer.created|user|alice|ok|
file.uploaded|user|alice|ok|
policy.decided|user|alice|blocked|
transfer.send_refused|user|alice|blocked|" "audit of the blocked send"
assert_eq "$(adet policy.decided "$tid_bad" 'd["action"], d["rules"]["unscannable"], "infected" in d["reason"]')" \
	"('send', 'default', True)" "policy.decided detail"
assert_eq "$(adet transfer.send_refused "$tid_bad" 'sorted(d)')" "['reason', 'transfer']" "send_refused detail"
assert_eq "$(adet file.uploaded "$fid" 'd["transfer"], d["name"], d["size"], d["sha256"], "upload_link" in d')" \
	"('$tid', 'a.bin', 300000, '$(sha "$T/a.bin")', False)" "file.uploaded detail"
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'transfer.created' AND detail != json_object('transfer', object_id)")
assert_eq "$n" 0 "transfer.created carries no subject or message, only the transfer id"

# Fail closed: when the audit record cannot be written, the send does not happen.
sqlite3 "$DATA/okuru.db" "CREATE TRIGGER test_audit_fail BEFORE INSERT ON audit
	WHEN NEW.event = 'transfer.sent' BEGIN SELECT RAISE(ABORT, 'test: audit refused'); END"
send "$tid" '{"recipients":["bob@client.example"]}'
assert_eq "$(status)" 503 "send whose audit record fails"
sqlite3 "$DATA/okuru.db" "DROP TRIGGER test_audit_fail"
api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(json 'j["state"]')" draft "the transfer stays a draft"
assert_eq "$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM links")" 0 "no link without its record"
assert_eq "$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM outbox")" 0 "no mail without its record"
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'policy.decided' AND outcome = 'send'")
assert_eq "$n" 0 "the decision's record rolled back with the send"
ok "audit: blocked send and its decision recorded; a failed record rolls the send back (503)"

send "$tid" '{"recipients":["bob@client.example","carol@client.example"],"message":"四半期報告書です / Q3 report","expires_days":3,"download_limit":2}'
assert_eq "$(status)" 200 "send: $(cat "$T/body")"
assert_eq "$(json 'j["state"]')" sent "state after send"
assert_eq "$(json 'len(j["recipients"])')" 2 "recipients"
send "$tid" '{"recipients":["dave@client.example"]}'
assert_eq "$(status)" 409 "second send"
mail_wait 2
mb=$(mail_to bob@client.example)
mc=$(mail_to carol@client.example)
assert_contains "$(mail_meta "$mb" 'j["tls_version"]')" "TLS" "link mail over TLS"
link_b=$(mail_link "$mb")
link_c=$(mail_link "$mc")
case $link_b in "https://localhost:$PORT/d/"*) ;; *) fail "link: $link_b" ;; esac
[ "$link_b" != "$link_c" ] || fail "two recipients share a link"
assert_contains "$(mail_text "$mb")" "a.bin" "file named in the link mail"
assert_contains "$(mail_text "$mb")" "$(sha "$T/a.bin")" "SHA-256 in the link mail"
tb=${link_b##*/}
if grep -rqF "$tb" "$DATA" "$LOG"; then fail "link token stored or logged in clear"; fi
ok "one link per recipient, mailed over verified STARTTLS, token not stored"

# The page before verification: sender, message, files; no download.
rcpt bob GET "$link_b" -H 'Accept-Language: ja,en;q=0.5'
assert_eq "$(status)" 200 "link page"
page=$(cat "$T/body")
assert_contains "$page" "a.bin" "file on the page"
assert_contains "$page" "$(sha "$T/a.bin")" "hash on the page"
assert_contains "$page" "四半期報告書です" "message on the page"
assert_contains "$page" 'lang="ja"' "Japanese page from Accept-Language"
rcpt bob GET "$link_b?lang=en"
assert_contains "$(cat "$T/body")" "Send me a code" "English switch"
rjson bob GET "$link_b"
assert_eq "$(json 'j["verified"]')" False "not verified yet"
assert_eq "$(json 'j["files"][0]["downloads_left"]')" 2 "downloads left"
rjson bob GET "$link_b/files/$fid"
assert_eq "$(status)" 403 "download before verification"
ok "link page in Japanese and English; downloads need verification"

# One-time code by mail; a wrong one costs an attempt; the right one works once.
rjson bob POST "$link_b/code"
assert_eq "$(status)" 202 "code request: $(cat "$T/body")"
mail_wait 3
code=$(mail_code "$(mail_to bob@client.example)")
case $code in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) fail "code: $code" ;; esac
wrong=$(printf '%08d' $(((10#$code + 1) % 100000000)))
rjson bob POST "$link_b/verify" -H 'Content-Type: application/json' -d "{\"code\":\"$wrong\"}"
assert_eq "$(status)" 403 "wrong code"
assert_eq "$(json 'j["attempts_left"]')" 4 "attempts left"
rcpt bob POST "$link_b/verify?lang=en" --data-urlencode "code=$code"
assert_eq "$(status)" 303 "right code (form)"
grep -q okuru_s "$T/jar.bob" || fail "no session cookie"
grep -q "#HttpOnly_localhost" "$T/jar.bob" || fail "session cookie not HttpOnly"
rjson bob POST "$link_b/verify" -H 'Content-Type: application/json' -d "{\"code\":\"$code\"}"
assert_eq "$(status)" 409 "code reused"
ok "one-time code mailed, wrong code counted, code works once"

# Download, interrupted and resumed with Range: counts once.
rcpt bob GET "$link_b/files/$fid" -r 0-99999
assert_eq "$(status)" 206 "first part"
cp "$T/body" "$T/part1"
rcpt bob GET "$link_b/files/$fid" -r 100000-
assert_eq "$(status)" 206 "second part"
cat "$T/part1" "$T/body" >"$T/got"
assert_eq "$(sha "$T/got")" "$(sha "$T/a.bin")" "resumed download hash"
rjson bob GET "$link_b"
assert_eq "$(json 'j["files"][0]["downloads_left"]')" 1 "a resumed download counts once"
mail_wait 4
mr=$(mail_to alice@bank.example)
assert_contains "$(mail_text "$mr")" "bob@client.example" "receipt names the recipient"
assert_contains "$(mail_text "$mr")" "a.bin" "receipt names the file"
api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
r='[r for r in j["recipients"] if r["address"] == "bob@client.example"][0]'
assert_eq "$(json "$r[\"mail\"][\"state\"]")" sent "mail state"
assert_contains "$(json "$r[\"mail\"][\"tls\"]")" "TLS" "mail TLS recorded"
[ "$(json "$r[\"verification\"][\"verified\"]")" != None ] || fail "verification not shown"
assert_eq "$(json "len($r[\"downloads\"])")" 2 "two responses recorded"
assert_eq "$(json "$r[\"downloads\"][1][\"ip\"]")" 127.0.0.1 "download IP"
assert_eq "$(json "$r[\"downloads\"][1][\"complete\"]")" True "download complete"
ok "resumed download, hash matches, receipt mailed, transfer shows delivery and downloads"

# The sender fetches her own file: file.downloaded, the whole and a range.
api "$tok" GET "/api/v1/transfers/$tid/files/$fid" >/dev/null
assert_eq "$(status)" 200 "staff download"
api "$tok" GET "/api/v1/transfers/$tid/files/$fid" -r 100-199 >/dev/null
assert_eq "$(status)" 206 "staff range download"
curl -sS --cacert "$DATA/tls/cert.pem" -I -H "Authorization: Bearer $tok" -o /dev/null \
	"$URL/api/v1/transfers/$tid/files/$fid" || fail "staff HEAD" # no download: not recorded
for _ in $(seq 1 50); do
	n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'file.downloaded' AND actor_kind = 'user'")
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
q="SELECT actor || ' ' || outcome || ' ' || json_extract(detail, '\$.bytes') || ' ' ||
	json_extract(detail, '\$.range_start') || ' ' || json_extract(detail, '\$.length') || ' ' ||
	json_extract(detail, '\$.complete') || ' ' || json_extract(detail, '\$.transfer')
	FROM audit WHERE event = 'file.downloaded' AND actor_kind = 'user' ORDER BY seq"
assert_eq "$(sqlite3 "$DATA/okuru.db" "$q")" "alice ok 300000 0 300000 1 $tid
alice ok 100 100 100 1 $tid" "file.downloaded records"
ok "audit: staff downloads recorded with their range"

# A stray range does not count; the limit ends the link.
rcpt bob GET "$link_b/files/$fid" -r 5000-5999
assert_eq "$(status)" 206 "stray range"
rcpt bob GET "$link_b/files/$fid"
assert_eq "$(status)" 200 "second full download"
assert_eq "$(sha "$T/body")" "$(sha "$T/a.bin")" "second download hash"
rcpt bob GET "$link_b/files/$fid"
assert_eq "$(status)" 404 "over the limit"
gone=$(cat "$T/body")
rcpt bob GET "$link_b"
assert_eq "$(status)" 404 "used-up link page"
assert_eq "$(cat "$T/body")" "$gone" "used-up page"
[ "$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM outbox WHERE kind = 'receipt'")" = 1 ] ||
	fail "a second receipt was queued"
ok "download limit: stray ranges do not count, a used-up link is gone"

# Carol: a session from another link does not carry over; brute force locks.
sid=$(awk '$6 == "okuru_s" {print $7}' "$T/jar.bob")
curl -sS --cacert "$DATA/tls/cert.pem" -o /dev/null -w '%{http_code}' -H "Cookie: okuru_s=$sid" \
	-H 'Accept: application/json' "$link_c/files/$fid" >"$T/status" || true
assert_eq "$(status)" 403 "bob's session on carol's link"
rjson carol POST "$link_c/code"
assert_eq "$(status)" 202 "carol's code"
mail_wait 5
code_c=$(mail_code "$(mail_to carol@client.example)")
for i in 1 2 3 4; do
	rjson carol POST "$link_c/verify" -H 'Content-Type: application/json' -d '{"code":"00000000"}'
	[ "$code_c" = 00000000 ] || assert_eq "$(status)" 403 "wrong code $i"
done
rjson carol POST "$link_c/verify" -H 'Content-Type: application/json' -d '{"code":"abc"}'
assert_eq "$(status)" 429 "fifth wrong attempt locks"
assert_contains "$(cat "$T/body")" "locked_until" "lock time"
rjson carol POST "$link_c/verify" -H 'Content-Type: application/json' -d "{\"code\":\"$code_c\"}"
assert_eq "$(status)" 429 "right code while locked"
rjson carol POST "$link_c/code"
assert_eq "$(status)" 429 "no new code while locked"
ok "sessions are bound to their link; five wrong codes lock the link"

# Another transfer's file through this link; a tampered token.
tid3=$(new_transfer "$tok")
fid3=$(upload_clean "$tok" "$tid3" b.bin "$T/a.bin")
rcpt carol GET "$link_c/files/$fid3"
assert_eq "$(status)" 404 "another transfer's file"
t=${link_c##*/}
c0=${t:0:1}
[ "$c0" = A ] && c1=B || c1=A
rcpt x GET "${link_c%/*}/$c1${t:1}"
assert_eq "$(status)" 404 "tampered token"
assert_eq "$(cat "$T/body")" "$gone" "tampered token page"
rcpt x GET "${link_c%/*}/short"
assert_eq "$(status)" 404 "malformed token"
ok "a link reaches only its own transfer; tampered tokens are unknown"

# Revoke one recipient, expire (time moved on in the database), revoke all.
rid_c=$(api "$tok" GET "/api/v1/transfers/$tid" >/dev/null; json '[r["id"] for r in j["recipients"] if r["address"] == "carol@client.example"][0]')
api "$tok" DELETE "/api/v1/transfers/$tid/recipients/$rid_c" >/dev/null
assert_eq "$(status)" 200 "revoke carol"
assert_eq "$(json '[r["link"] for r in j["recipients"] if r["address"] == "carol@client.example"][0]')" revoked "carol revoked"
rcpt carol GET "$link_c"
assert_eq "$(status)" 404 "revoked link"
assert_eq "$(cat "$T/body")" "$gone" "revoked page"

tid4=$(new_transfer "$tok")
upload_clean "$tok" "$tid4" c.bin "$T/a.bin" >/dev/null
send "$tid4" '{"recipients":["erin@client.example"],"verification":"passphrase","passphrase":"correct horse battery"}'
assert_eq "$(status)" 200 "passphrase send"
mail_wait 6
me=$(mail_to erin@client.example)
link_e=$(mail_link "$me")
if mail_text "$me" | grep -qF "correct horse"; then fail "passphrase mailed"; fi
rjson erin POST "$link_e/code"
assert_eq "$(status)" 409 "no code for a passphrase link"
rjson erin POST "$link_e/verify" -H 'Content-Type: application/json' -d '{"passphrase":"wrong horse battery"}'
assert_eq "$(status)" 403 "wrong passphrase"
rjson erin POST "$link_e/verify" -H 'Content-Type: application/json' -d '{"passphrase":"correct horse battery"}'
assert_eq "$(status)" 200 "right passphrase"
rjson erin GET "$link_e"
assert_eq "$(json 'j["verified"]')" True "verified by passphrase"
api "$tok" PATCH "/api/v1/transfers/$tid4" -H 'Content-Type: application/json' -d '{"expires_days":40}' >/dev/null
assert_eq "$(status)" 400 "extend beyond the maximum"
api "$tok" PATCH "/api/v1/transfers/$tid4" -H 'Content-Type: application/json' -d '{"expires_days":30}' >/dev/null
assert_eq "$(status)" 200 "extend"
sqlite3 "$DATA/okuru.db" "UPDATE links SET expires_at = 1 WHERE address = 'erin@client.example'"
rcpt erin GET "$link_e"
assert_eq "$(status)" 404 "expired link"
assert_eq "$(cat "$T/body")" "$gone" "expired page"
ok "passphrase links (never mailed), extension within the maximum, expiry"

api "$tok" DELETE "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 200 "revoke transfer"
assert_eq "$(json 'j["state"]')" revoked "state revoked"
other=$(okuru_user mallory sender)
api "$other" DELETE "/api/v1/transfers/$tid4" >/dev/null
assert_eq "$(status)" 404 "another user's transfer"

# Every attempt was recorded with its real outcome.
for o in revoked expired exhausted wrong locked no_code not_verified ok; do
	n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM link_attempts WHERE outcome = '$o'")
	[ "$n" -gt 0 ] || fail "no attempt recorded with outcome $o"
done
# Unknown and malformed tokens are logged, not written: anyone can make them.
for o in unknown malformed; do
	grep -q "event=link.attempt link=- action=[a-z]* outcome=$o" "$LOG" || fail "no $o attempt logged"
done
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM link_attempts WHERE link_id IS NULL")
assert_eq "$n" 0 "attempts without a link written to the database"
if sqlite3 "$DATA/okuru.db" "SELECT hex(sealed) FROM outbox WHERE state = 'sent' AND sealed IS NOT NULL" | grep -q .; then
	fail "a sent message kept its body"
fi
okuru_stop
ok "revocation, ownership, attempts recorded, sent mail bodies erased"

# The audit log (issue #6): what recipients did, as the recipient; every mail queued and
# delivered, by the system, with the TLS that carried it; never a code or a token.
aq() { sqlite3 -separator ' ' "$DATA/okuru.db" "$1" | tr '\n' ';'; }
assert_eq "$(aq "SELECT event, actor_kind, actor, ip, outcome, json_extract(detail, '$.transfer') IS NOT NULL FROM audit WHERE json_extract(detail, '$.recipient') = 'bob@client.example' AND event IN ('otp.requested', 'otp.verified', 'otp.failed') ORDER BY seq")" \
	"otp.requested recipient bob@client.example 127.0.0.1 ok 1;otp.failed recipient bob@client.example 127.0.0.1 failed 1;otp.verified recipient bob@client.example 127.0.0.1 ok 1;otp.failed recipient bob@client.example 127.0.0.1 no_code 1;" \
	"bob's code: requested, one wrong, verified, reused"
assert_eq "$(aq "SELECT json_extract(detail, '$.attempts_left') FROM audit WHERE event = 'otp.failed' AND outcome = 'failed' AND json_extract(detail, '$.recipient') = 'bob@client.example'")" "4;" "attempts left recorded"
assert_eq "$(aq "SELECT outcome, json_extract(detail, '$.range_start'), json_extract(detail, '$.length'), json_extract(detail, '$.bytes'), json_extract(detail, '$.complete'), json_extract(detail, '$.name'), actor FROM audit WHERE event = 'file.downloaded' AND json_extract(detail, '$.recipient') = 'bob@client.example' ORDER BY seq")" \
	"ok 0 100000 100000 1 a.bin bob@client.example;ok 100000 200000 200000 1 a.bin bob@client.example;ok 5000 1000 1000 1 a.bin bob@client.example;ok 0 300000 300000 1 a.bin bob@client.example;" \
	"bob's four responses"
assert_eq "$(aq "SELECT outcome, json_extract(detail, '$.reason') FROM audit WHERE event = 'file.download_refused' AND actor = 'bob@client.example'")" "refused not_verified;" "bob before verification"
assert_eq "$(aq "SELECT count(*) FROM audit WHERE event = 'link.viewed' AND outcome = 'ok' AND actor = 'bob@client.example' AND actor_kind = 'recipient'")" "4;" "bob's page views"
# Over the limit the whole link is used up: a link.viewed "exhausted" for the download and the page.
assert_eq "$(aq "SELECT outcome, json_extract(detail, '$.action') FROM audit WHERE event = 'link.viewed' AND outcome != 'ok' AND actor = 'bob@client.example' ORDER BY seq")" "exhausted download;exhausted view;" "bob's used-up link"
assert_eq "$(aq "SELECT event, outcome, json_extract(detail, '$.attempts_left') FROM audit WHERE actor = 'carol@client.example' AND event LIKE 'otp.%' ORDER BY seq")" \
	"otp.requested ok ;otp.failed failed 4;otp.failed failed 3;otp.failed failed 2;otp.failed failed 1;otp.locked locked ;otp.failed locked ;otp.requested locked ;" \
	"carol's codes: four wrong, locked, then refused while locked"
assert_eq "$(aq "SELECT outcome FROM audit WHERE event = 'link.viewed' AND actor = 'carol@client.example' AND outcome != 'ok'")" "revoked;" "carol's revoked link"
assert_eq "$(aq "SELECT event, outcome FROM audit WHERE actor = 'erin@client.example' AND event NOT IN ('link.viewed') ORDER BY seq")" \
	"passphrase.failed failed;passphrase.verified ok;" "erin's passphrase"
assert_eq "$(aq "SELECT outcome FROM audit WHERE event = 'link.viewed' AND actor = 'erin@client.example' AND outcome != 'ok'")" "expired;" "erin's expired link"
assert_eq "$(aq "SELECT actor_kind, actor = '', outcome, json_extract(detail, '$.reason') FROM audit WHERE event = 'link.unknown' ORDER BY seq")" \
	"recipient 1 failed unknown;recipient 1 failed malformed;" "tampered and malformed tokens"
# Mail: each queued in its cause's transaction and delivered, by the system.
assert_eq "$(aq "SELECT event, actor_kind, actor, json_extract(detail, '$.kind') FROM audit WHERE event LIKE 'mail.%' AND json_extract(detail, '$.recipient') = 'bob@client.example' ORDER BY seq")" \
	"mail.queued system okurud link;mail.delivered system okurud link;mail.queued system okurud otp;mail.delivered system okurud otp;" \
	"bob's mails queued and delivered"
assert_eq "$(aq "SELECT count(*) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = 'mail.queued' AND a.object_id = CAST(o.id AS TEXT) AND json_extract(a.detail, '$.message_id') = o.message_id)")" "0;" "every queued mail recorded"
assert_eq "$(aq "SELECT count(*) FROM outbox o WHERE o.state = 'sent' AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = 'mail.delivered' AND a.object_id = CAST(o.id AS TEXT) AND json_extract(a.detail, '$.tls') = o.tls AND json_extract(a.detail, '$.code') = 250)")" "0;" "every delivery recorded with its code and TLS"
tv=$(mail_meta "$mb" 'j["tls_version"]')
assert_eq "$(aq "SELECT DISTINCT substr(json_extract(detail, '$.tls'), 1, 6) FROM audit WHERE event = 'mail.delivered'")" "${tv/v/};" "the TLS version the SMTP server negotiated"
cs=$(mail_meta "$mb" 'j["cipher"]')
c=$(aq "SELECT json_extract(detail, '$.tls') FROM audit WHERE event = 'mail.delivered' AND json_extract(detail, '$.kind') = 'link' AND json_extract(detail, '$.recipient') = 'bob@client.example'")
c=${c%;}
c=${c#* }
assert_contains "$cs" "${c//-/_}" "the cipher the SMTP server negotiated ($cs)"
sqlite3 "$DATA/okuru.db" ".dump audit" >"$T/audit.sql"
for secret in "$code" "$code_c" "$tb" "correct horse"; do
	if grep -qF -- "$secret" "$T/audit.sql"; then fail "a secret is in the audit log"; fi
done
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: views, codes, passphrases, downloads, refusals, unknown tokens, mail with its TLS"
assert_eq "$(arec "$tid")" "transfer.created|user|alice|ok|
file.uploaded|user|alice|ok|
policy.decided|user|alice|send|
transfer.sent|user|alice|ok|
link.created|user|alice|ok|bob@client.example
link.created|user|alice|ok|carol@client.example
transfer.send_refused|user|alice|conflict|
file.downloaded|user|alice|ok|
file.downloaded|user|alice|ok|
link.revoked|user|alice|ok|carol@client.example
transfer.revoked|user|alice|ok|" "audit of the sent transfer"
assert_eq "$(adet transfer.sent "$tid" 'd["recipients"], d["files"], d["download_limit"], d["verification"], d["approvals_needed"], d["expires_at"] > d["release_at"]')" \
	"(['bob@client.example', 'carol@client.example'], ['$fid_a'], 2, 'email-otp', 0, True)" "transfer.sent detail"
assert_eq "$(adet transfer.sent "$tid" '"message" in d or "passphrase" in d')" False "no message in the record"
assert_eq "$(adet link.revoked "$rid_c" 'd["transfer"]')" "$tid" "link.revoked detail"
assert_eq "$(adet transfer.revoked "$tid" 'd["links_ended"]')" 1 "links ended by the revocation"
assert_eq "$(adet transfer.send_refused "$tid" 'd["reason"]')" "the transfer was already sent" "conflict reason"
assert_eq "$(adet transfer.extended "$tid4" 'd["expires_at"] > d["old_expires_at"] and (d["expires_at"] - d["old_expires_at"]) % 86400 == 0')" \
	True "transfer.extended detail"
assert_eq "$(adet transfer.sent "$tid4" 'd["verification"]')" passphrase "passphrase send recorded"
if sqlite3 "$DATA/okuru.db" "SELECT detail FROM audit" | grep -qF "correct horse"; then
	fail "a passphrase in the audit log"
fi
if sqlite3 "$DATA/okuru.db" "SELECT detail FROM audit" | grep -qF "四半期"; then
	fail "a message in the audit log"
fi
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE actor = 'mallory' AND event LIKE 'transfer.%'")
assert_eq "$n" 0 "a refused revocation of another's transfer changes nothing"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: send, links, revocations and extension recorded in order, without secrets"

# Parallel and out-of-order requests: the limit holds, a complete fetch counts.
okuru_start
tid6=$(new_transfer "$tok")
fid6=$(upload_clean "$tok" "$tid6" p.bin "$T/a.bin")
n=$(mail_count)
send "$tid6" '{"recipients":["gina@client.example","hank@client.example"],"download_limit":1,"verification":"passphrase","passphrase":"parallel test phrase"}'
assert_eq "$(status)" 200 "send with limit 1"
mail_wait $((n + 2))
link_g=$(mail_link "$(mail_to gina@client.example)")
link_h=$(mail_link "$(mail_to hank@client.example)")
rjson gina POST "$link_g/verify" -H 'Content-Type: application/json' -H 'Origin: https://evil.example' \
	-d '{"passphrase":"parallel test phrase"}'
assert_eq "$(status)" 403 "cross-origin verify"
for who in gina hank; do
	l=$link_g
	[ "$who" = hank ] && l=$link_h
	rjson "$who" POST "$l/verify" -H 'Content-Type: application/json' \
		-H "Origin: https://localhost:$PORT" -d '{"passphrase":"parallel test phrase"}'
	assert_eq "$(status)" 200 "$who verified (same-origin browser POST)"
done
pids=""
for i in 1 2 3 4 5 6; do
	curl -sS --cacert "$DATA/tls/cert.pem" -b "$T/jar.gina" -o "$T/par.$i" -w '%{http_code}' \
		"$link_g/files/$fid6" >"$T/par.$i.status" 2>/dev/null &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids || true
full=0
for i in 1 2 3 4 5 6; do
	if [ "$(cat "$T/par.$i.status")" = 200 ] && [ "$(sha "$T/par.$i")" = "$(sha "$T/a.bin")" ]; then
		full=$((full + 1))
	fi
done
assert_eq "$full" 1 "whole copies from six parallel requests with limit 1"
rcpt hank GET "$link_h/files/$fid6" -r 1-
assert_eq "$(status)" 206 "bytes 1- first"
cp "$T/body" "$T/tail"
rcpt hank GET "$link_h/files/$fid6" -r 0-0
assert_eq "$(status)" 206 "byte 0 last"
cat "$T/body" "$T/tail" >"$T/got"
assert_eq "$(sha "$T/got")" "$(sha "$T/a.bin")" "out-of-order copy"
rcpt hank GET "$link_h"
assert_eq "$(status)" 404 "an out-of-order complete fetch used the only download"
q="SELECT count(*) FROM outbox o JOIN links l ON o.link_id = l.id WHERE o.kind = 'receipt' AND l.address = 'hank@client.example'"
assert_eq "$(sqlite3 "$DATA/okuru.db" "$q")" 1 "receipt for an out-of-order download"
okuru_stop
ok "parallel requests cannot beat the limit; out-of-order ranges count and send a receipt"

# Verification "none", only where the policy allows it.
cat >"$T/none.policy" <<'EOF'
version = 1;
defaults = { verification = "none"; };
rules = ();
EOF
conf_set - policy "\"$T/none.policy\""
okuru_start
tid5=$(new_transfer "$tok")
upload_clean "$tok" "$tid5" d.bin "$T/a.bin" >/dev/null
head -c 8000000 /dev/urandom >"$T/big.bin"
upload_clean "$tok" "$tid5" e.bin "$T/big.bin" >/dev/null
n=$(mail_count)
send "$tid5" '{"recipients":["frank@client.example"],"verification":"none"}'
assert_eq "$(status)" 200 "send without verification when allowed"
mail_wait $((n + 1))
link_f=$(mail_link "$(mail_to frank@client.example)")
rjson frank GET "$link_f"
assert_eq "$(json 'j["verified"]')" True "no verification needed"
rcpt frank GET "$link_f/files/$(json 'j["files"][0]["id"]')"
assert_eq "$(status)" 200 "download without verification"
assert_eq "$(sha "$T/body")" "$(sha "$T/a.bin")" "hash without verification"
# A download the client abandons: recorded as partial, with the bytes that went out.
rjson frank GET "$link_f"
fe=$(json '[f["id"] for f in j["files"] if f["name"] == "e.bin"][0]')
rcpt frank GET "$link_f/files/$fe" --limit-rate 100k --max-time 1
sleep 1
okuru_stop
ok "verification none works only where the policy allows it"
# Six parallel requests with limit 1: one response, five refusals, each recorded (as
# file.download_refused, or link.viewed "exhausted" once the one download completed).
assert_eq "$(aq "SELECT count(*) FROM audit WHERE event = 'file.downloaded' AND actor = 'gina@client.example'")" "1;" "gina: one response of six"
assert_eq "$(aq "SELECT count(*), min(json_extract(detail, '$.transfer') IS NOT NULL) FROM audit WHERE actor = 'gina@client.example' AND (event = 'file.download_refused' OR (event = 'link.viewed' AND outcome = 'exhausted' AND json_extract(detail, '$.action') = 'download'))")" "5 1;" "gina: five refused (by the limit, or the link used up)"
assert_eq "$(aq "SELECT outcome, json_extract(detail, '$.complete'), json_extract(detail, '$.length'), json_extract(detail, '$.bytes') < 8000000 FROM audit WHERE event = 'file.downloaded' AND actor = 'frank@client.example' AND json_extract(detail, '$.name') = 'e.bin'")" \
	"partial 0 8000000 1;" "an abandoned download is recorded as partial"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify at the end"
