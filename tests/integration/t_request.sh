#!/bin/bash
# t_request.sh - reverse upload: staff ask a counterparty for files; the
# counterparty gets a link by mail, proves their address with a one-time
# code, uploads (scanned and encrypted like any upload, EICAR blocked,
# within the request's limits), says done; the staff member is told and
# owns the files.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
tok=$(okuru_user alice sender)
okuru_start

cp_() { # METHOD URL [curl args] - the counterparty's browser; body in $T/body
	m=$1 u=$2
	shift 2
	curl -sS --cacert "$DATA/tls/cert.pem" -X "$m" -c "$T/jar" -b "$T/jar" \
		-H 'Accept: application/json' -o "$T/body" -w '%{http_code}' "$@" "$u" >"$T/status" || true
}

api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' -d '{"message":"x"}' >/dev/null
assert_eq "$(status)" 400 "request without an address"
api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' \
	-d '{"address":"dan@client.example","max_files":10000}' >/dev/null
assert_eq "$(status)" 400 "max_files over the configured maximum"
api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' \
	-d '{"address":"dan@client.example","message":"決算書をお送りください","max_files":3,"max_bytes":400000,"expires_days":5}' >/dev/null
assert_eq "$(status)" 201 "request: $(cat "$T/body")"
tid=$(json 'j["id"]')
assert_eq "$(json 'j["origin"]')" request "origin"
assert_eq "$(json 'repr(j["subject"])')" "''" "no subject given: none stored (no English label)"
assert_eq "$(json 'j["request"]["address"]')" dan@client.example "request address"
assert_eq "$(json 'j["request"]["link"]')" active "request link state"
mail_wait 1
mu=$(mail_to dan@client.example)
link=$(mail_link "$mu")
case $link in "https://localhost:$PORT/u/"*) ;; *) fail "upload link: $link" ;; esac
assert_contains "$(mail_text "$mu")" "決算書をお送りください" "message in the request mail"
if grep -rqF "${link##*/}" "$DATA" "$LOG"; then fail "upload token stored or logged in clear"; fi
ok "request created, link mailed over TLS, token not stored"

head -c 100000 /dev/urandom >"$T/a.bin"
cp_ PUT "$link/files/a.bin" --data-binary "@$T/a.bin"
assert_eq "$(status)" 403 "upload before verification"
curl -sS --cacert "$DATA/tls/cert.pem" -o "$T/page" "$link"
assert_contains "$(cat "$T/page")" "upload" "upload page"
cp_ POST "$link/code"
assert_eq "$(status)" 202 "code"
mail_wait 2
code=$(mail_code "$(mail_to dan@client.example)")
cp_ POST "$link/verify" -H 'Content-Type: application/json' -d "{\"code\":\"$code\"}"
assert_eq "$(status)" 200 "verify"
ok "the counterparty proves their address by one-time code"

cp_ PUT "$link/files/a.bin" --data-binary "@$T/a.bin"
assert_eq "$(status)" 201 "upload: $(cat "$T/body")"
fa=$(json 'j["id"]')
sh "$SCRIPTS/eicar.sh" >"$T/eicar.txt"
cp_ PUT "$link/files/eicar.txt" --data-binary "@$T/eicar.txt"
assert_eq "$(status)" 201 "EICAR upload stored for scanning"
fe=$(json 'j["id"]')
[ "$(wait_scan "$tok" "$tid" "$fe")" = infected ] || fail "EICAR from a counterparty not infected"
[ "$(wait_scan "$tok" "$tid" "$fa")" = clean ] || fail "clean upload not clean"
head -c 300000 /dev/urandom >"$T/big.bin"
cp_ PUT "$link/files/big.bin" --data-binary "@$T/big.bin"
assert_eq "$(status)" 413 "over the request's byte budget"
head -c 10 /dev/urandom >"$T/c.bin"
cp_ PUT "$link/files/c.bin" --data-binary "@$T/c.bin"
assert_eq "$(status)" 201 "third file"
cp_ PUT "$link/files/d.bin" --data-binary "@$T/c.bin"
assert_eq "$(status)" 409 "fourth file over max_files"
cp_ GET "$link"
assert_eq "$(json 'len(j["files"])')" 3 "files listed to the counterparty"
ok "uploads scanned (EICAR blocked), within the request's file and byte limits"

api "$tok" GET "/api/v1/transfers/$tid/files/$fa" >/dev/null
assert_eq "$(status)" 200 "staff download"
assert_eq "$(sha "$T/body")" "$(sha "$T/a.bin")" "hash of the counterparty's file"
api "$tok" GET "/api/v1/transfers/$tid/files/$fe" >/dev/null
assert_eq "$(status)" 409 "infected file blocked for staff too"
other=$(okuru_user bob sender)
api "$other" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 404 "another user cannot see the request"
ok "the files belong to the requesting staff member only"

cp_ POST "$link/done"
assert_eq "$(status)" 200 "done"
mail_wait 3
mn=$(mail_to alice@bank.example)
assert_contains "$(mail_text "$mn")" "dan@client.example" "staff notified"
assert_contains "$(mail_text "$mn")" "a.bin" "notification lists the files"
# The notice's link opens the request in the staff app, not the JSON API.
assert_eq "$(mail_link "$mn")" "https://localhost:$PORT/#/transfers/$tid" "notification links into the app"
cp_ GET "$link"
assert_eq "$(status)" 404 "link after done"
cp_ PUT "$link/files/e.bin" --data-binary "@$T/c.bin"
assert_eq "$(status)" 404 "upload after done"
api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 200 "transfer after done: $(cat "$T/body")"
assert_eq "$(json 'j["request"]["link"]')" completed "request completed"
api "$tok" GET "/api/v1/transfers?limit=10" >/dev/null
assert_eq "$(json '[(x["request"]["address"], x["request"]["link"], x["request"]["completed"] is not None) for x in j["transfers"] if x["id"] == "'"$tid"'"]')" \
	"[('dan@client.example', 'completed', True)]" "the list shows the request's counterparty and state"
assert_eq "$(sqlite3 -separator ' ' "$DATA/okuru.db" "SELECT actor_kind, actor, outcome, json_extract(detail, '\$.transfer') FROM audit WHERE event = 'request.completed'")" \
	"recipient dan@client.example ok $tid" "request.completed recorded, by the counterparty"
ok "done: the requester is mailed, the link ends"

# new_request ADDR JSON-EXTRA -> prints "TID LINK", verified in jar $T/jar
new_request() {
	n=$(mail_count)
	api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' \
		-d "{\"address\":\"$1\",$2}" >/dev/null
	[ "$(status)" = 201 ] || fail "request for $1: $(cat "$T/body")"
	rt=$(json 'j["id"]')
	mail_wait $((n + 1))
	rl=$(mail_link "$(mail_to "$1")")
	rm -f "$T/jar"
	cp_ POST "$rl/code"
	[ "$(status)" = 202 ] || fail "code for $1: $(status) $(cat "$T/body")"
	mail_wait $((n + 2))
	cp_ POST "$rl/verify" -H 'Content-Type: application/json' \
		-d "{\"code\":\"$(mail_code "$(mail_to "$1")")\"}"
	[ "$(status)" = 200 ] || fail "verify $1"
	echo "$rt $rl"
}

# Parallel uploads cannot together pass the byte limit.
read -r tid2 link2 <<<"$(new_request erin@client.example '"max_files":10,"max_bytes":400000')"
head -c 190000 /dev/urandom >"$T/p.bin"
pids=""
for i in 1 2 3; do
	curl -sS --cacert "$DATA/tls/cert.pem" -b "$T/jar" -o /dev/null -w '%{http_code}' \
		--data-binary "@$T/p.bin" -X PUT "$link2/files/p$i.bin" >"$T/up.$i" 2>/dev/null &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids || true
created=$(cat "$T/up.1" "$T/up.2" "$T/up.3" | grep -o 201 | wc -l)
assert_eq "$created" 2 "parallel uploads accepted within 400000 bytes"
total=$(sqlq "$DATA/okuru.db" "SELECT sum(size) FROM files WHERE transfer_id = :t" t="$tid2")
[ "$total" -le 400000 ] || fail "stored $total bytes over a 400000-byte request"
ok "parallel uploads stay within the request's byte limit"

# An upload still running when staff send the transfer does not join it.
read -r tid3 link3 <<<"$(new_request fay@client.example '"max_files":5,"max_bytes":2000000')"
cp_ PUT "$link3/files/first.bin" --data-binary "@$T/c.bin"
assert_eq "$(status)" 201 "first file"
f3=$(json 'j["id"]')
[ "$(wait_scan "$tok" "$tid3" "$f3")" = clean ] || fail "first file not clean"
head -c 600000 /dev/urandom >"$T/slow.bin"
curl -sS --cacert "$DATA/tls/cert.pem" -b "$T/jar" -o "$T/slow.out" -w '%{http_code}' \
	--limit-rate 150k --data-binary "@$T/slow.bin" -X PUT "$link3/files/slow.bin" \
	>"$T/slow.status" 2>/dev/null &
slow=$!
sleep 1
api "$tok" POST "/api/v1/transfers/$tid3/send" -H 'Content-Type: application/json' \
	-d '{"recipients":["gus@client.example"]}' >/dev/null
assert_eq "$(status)" 200 "send while an upload runs"
wait "$slow" || true
assert_eq "$(cat "$T/slow.status")" 409 "upload finishing after the send"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT count(*) FROM files WHERE transfer_id = :t" t="$tid3")" 1 \
	"files in the sent transfer"
okuru_stop
ok "an upload that ends after the send is refused, the sent transfer unchanged"

# The audit log: the counterparty acts as a recipient once the token resolves; the
# request's and the notice's mails are recorded as queued and delivered.
aq() { sqlite3 -separator ' ' "$DATA/okuru.db" "$1" | tr '\n' ';'; }
assert_eq "$(aq "SELECT event, outcome FROM audit WHERE actor_kind = 'recipient' AND actor = 'dan@client.example' AND event LIKE 'otp.%' ORDER BY seq")" \
	"otp.requested ok;otp.verified ok;" "dan's code, by dan"
assert_eq "$(aq "SELECT count(*) > 0 FROM audit WHERE actor = 'dan@client.example' AND event = 'link.viewed' AND outcome = 'completed'")" \
	"1;" "dan's link after done"
assert_eq "$(aq "SELECT json_extract(detail, '$.kind') FROM audit WHERE event = 'mail.delivered' AND json_extract(detail, '$.recipient') = 'dan@client.example' ORDER BY seq")" \
	"request;otp;" "dan's mails delivered"
assert_eq "$(aq "SELECT count(*) FROM audit WHERE event = 'mail.queued' AND json_extract(detail, '$.kind') = 'uploaded' AND json_extract(detail, '$.recipient') = 'alice@bank.example'")" \
	"1;" "the requester's notice queued"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: the counterparty's code and link use, the request's mails"
# The audit log: the request and its decision by the staff member, the
# uploads by the counterparty (through the upload link), the late one refused.
q="SELECT event || ' ' || actor_kind || ' ' || actor || ' ' || outcome FROM audit
	WHERE event IN ('policy.decided', 'request.created') ORDER BY seq LIMIT 2"
assert_eq "$(sqlite3 "$DATA/okuru.db" "$q")" "policy.decided user alice send
request.created user alice ok" "request and its decision"
assert_eq "$(adet request.created "$tid" 'd["recipient"], d["max_files"]')" "('dan@client.example', 3)" "request.created detail"
assert_eq "$(adet policy.decided "$tid" 'd["action"]')" request "the request's decision"
assert_eq "$(arec "$tid" | grep -c '^file.uploaded|recipient|dan@client.example|ok|dan@client.example$')" 3 \
	"three counterparty uploads recorded"
assert_eq "$(adet file.uploaded "$fa" 'd["transfer"], d["name"], d["size"], d["sha256"], len(d["upload_link"])')" \
	"('$tid', 'a.bin', 100000, '$(sha "$T/a.bin")', 32)" "file.uploaded detail"
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'file.uploaded' AND json_extract(detail, '\$.recipient') = 'erin@client.example'")
assert_eq "$n" 2 "parallel uploads: the two stored are recorded"
q="SELECT actor_kind || ' ' || actor || ' ' || outcome || ' ' || json_extract(detail, '\$.name') || ' ' ||
	json_extract(detail, '\$.reason') FROM audit WHERE event = 'file.upload_refused' AND
	json_extract(detail, '\$.name') = 'slow.bin'"
assert_eq "$(sqlite3 "$DATA/okuru.db" "$q")" \
	"recipient fay@client.example refused slow.bin files can only be added to a draft transfer" \
	"the late upload's refusal"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: request, its decision, counterparty uploads and a refused late upload"
