#!/bin/bash
# t_request_tus.sh - a counterparty's resumable uploads (tus 1.0) under an
# upload request's link, /u/TOKEN/uploads: only with the session the mailed
# code gave (403 before), owned by the link (another link or a staff user,
# the requester included, gets 404), a PATCH cut in the middle keeps whole
# chunks and the upload resumes from the server's offset (curl, then the
# official tus-js-client with findPreviousUploads), the stored file has the
# source's SHA-256; the request's limits at creation (413 over the bytes
# left, unfinished uploads holding theirs, also against a PUT; 409 over
# max_files); "done" ends the unfinished uploads and refuses new ones; an
# expired link's uploads end at the purger's run; audit records name the
# counterparty. First, schema 11: a database of schema 10 with a staff
# upload in progress upgrades and the upload completes.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
tok=$(okuru_user alice sender)
tok_b=$(okuru_user bob sender)
okuru_start
CA="$DATA/tls/cert.pem"
UP="$DATA/storage/uploads"
DB="$DATA/okuru.db"
MiB=$((1024 * 1024))

b64() { printf '%s' "$1" | base64 -w0; }
hdr() { grep -i "^$1:" "$T/hdr" | tail -n 1 | cut -d' ' -f2- | tr -d '\r'; }
# ctus JAR METHOD URL [curl args] - a tus request with the counterparty's cookies
ctus() {
	local jar=$1 m=$2 u=$3
	shift 3
	curl -sS --cacert "$CA" -X "$m" -b "$jar" -H 'Tus-Resumable: 1.0.0' -D "$T/hdr" \
		-o "$T/body" -w '%{http_code}' "$@" "$u" >"$T/status" || true
}
# stus METHOD PATH [curl args] - a tus request with alice's bearer token
stus() {
	local m=$1 p=$2
	shift 2
	curl -sS --cacert "$CA" -X "$m" -H "Authorization: Bearer $tok" -H 'Tus-Resumable: 1.0.0' \
		-D "$T/hdr" -o "$T/body" -w '%{http_code}' "$@" "$URL$p" >"$T/status" || true
}
# ccreate JAR LINK NAME LENGTH - a creation; status in $T/status, Location via hdr
ccreate() {
	ctus "$1" POST "$2/uploads" -H "Upload-Length: $4" -H "Upload-Metadata: filename $(b64 "$3")"
}
cookie() { awk '$6 == "okuru_s" { print $7 }' "$1"; }
audit_n() { # EVENT OBJECT [OUTCOME] [ACTOR] - how many such records
	sqlq "$DB" "SELECT count(*) FROM audit WHERE event = :e AND object_id = :o
		AND outcome LIKE :out AND actor LIKE :a" e="$1" o="$2" out="${3:-%}" a="${4:-%}"
}
gen() { # SEED BYTES FILE - deterministic content
	$PY -c 'import random,sys; sys.stdout.buffer.write(random.Random(int(sys.argv[1])).randbytes(int(sys.argv[2])))' "$1" "$2" >"$3"
}

# ---- schema 10 -> 11 -----------------------------------------------------
tid0=$(new_transfer "$tok")
gen 3 $((MiB + 5)) "$T/old.bin"
stus POST /api/v1/uploads -H "Upload-Length: $((MiB + 5))" \
	-H "Upload-Metadata: filename $(b64 old.bin),transfer $(b64 "$tid0")"
assert_eq "$(status)" 201 "staff creation: $(cat "$T/body")"
loc0=$(hdr Location)
okuru_stop
# Put the table back as schema 10 had it (owner_id NOT NULL, no link_id), the row kept.
sqlq "$DB" "CREATE TABLE uploads_v10 (
  id TEXT PRIMARY KEY, transfer_id TEXT NOT NULL REFERENCES transfers(id),
  owner_id INTEGER NOT NULL REFERENCES users(id), name TEXT NOT NULL,
  length INTEGER NOT NULL CHECK (length >= 0),
  durable_offset INTEGER NOT NULL DEFAULT 0 CHECK (durable_offset >= 0 AND durable_offset <= length),
  key_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, staging TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL, updated INTEGER NOT NULL, UNIQUE (transfer_id, name));
INSERT INTO uploads_v10 SELECT id, transfer_id, owner_id, name, length, durable_offset, key_id,
  wrapped_key, staging, created, updated FROM uploads;
DROP TABLE uploads;
ALTER TABLE uploads_v10 RENAME TO uploads;
CREATE INDEX uploads_updated ON uploads(updated);
PRAGMA user_version = 10;"
assert_eq "$(sqlq "$DB" "PRAGMA user_version")" 10 "database set back to schema 10"
okuru_start
assert_eq "$(sqlq "$DB" "PRAGMA user_version")" 11 "schema 11 after start-up"
assert_eq "$(sqlq "$DB" "SELECT owner_id IS NOT NULL, link_id IS NULL FROM uploads WHERE id = :i" \
	i="${loc0##*/}")" "1|1" "the staff upload kept, owned by its user"
stus PATCH "$loc0" -H 'Content-Type: application/offset+octet-stream' -H 'Upload-Offset: 0' \
	--data-binary "@$T/old.bin"
assert_eq "$(status)" 204 "the old upload completes after the upgrade: $(cat "$T/body")"
assert_eq "$(sqlq "$DB" "SELECT sha256 FROM files WHERE id = :i" i="${loc0##*/}")" \
	"$(sha "$T/old.bin")" "its SHA-256"
ok "a schema 10 database upgrades to 11; its unfinished staff upload completes"

# ---- two requests, two counterparties ------------------------------------
mkreq() { # ADDRESS -> the transfer id; the link in the mail
	api "$tok" POST /api/v1/requests -H 'Content-Type: application/json' \
		-d "{\"address\":\"$1\",\"max_files\":4,\"max_bytes\":$((16 * MiB))}" >/dev/null
	[ "$(status)" = 201 ] || fail "request for $1: $(status) $(cat "$T/body")"
	json 'j["id"]'
}
verify() { # JAR LINK ADDRESS MAILS
	curl -sS --cacert "$CA" -X POST -c "$1" -b "$1" -H 'Accept: application/json' \
		-o /dev/null "$2/code"
	mail_wait "$4"
	local code
	code=$(mail_code "$(mail_to "$3")")
	curl -sS --cacert "$CA" -X POST -c "$1" -b "$1" -H 'Accept: application/json' \
		-H 'Content-Type: application/json' -d "{\"code\":\"$code\"}" -o "$T/body" \
		-w '%{http_code}' "$2/verify" >"$T/status"
	assert_eq "$(status)" 200 "verification of $3"
}
tidA=$(mkreq dan@client.example)
mail_wait 1
linkA=$(mail_link "$(mail_to dan@client.example)")
tidB=$(mkreq erin@other.example)
mail_wait 2
linkB=$(mail_link "$(mail_to erin@other.example)")
lidA=$(sqlq "$DB" "SELECT id FROM links WHERE transfer_id = :t AND kind = 'upload'" t="$tidA")
lidB=$(sqlq "$DB" "SELECT id FROM links WHERE transfer_id = :t AND kind = 'upload'" t="$tidB")

: >"$T/jarA"
ccreate "$T/jarA" "$linkA" early.bin 10
assert_eq "$(status)" 403 "creation before the code: $(cat "$T/body")"
assert_eq "$(hdr Tus-Resumable)" 1.0.0 "Tus-Resumable on the refusal"
assert_eq "$(sqlq "$DB" "SELECT count(*) FROM link_attempts WHERE link_id = :l AND action = 'upload'
	AND outcome = 'not_verified'" l="$lidA")" 1 "the refusal recorded as an attempt"
verify "$T/jarA" "$linkA" dan@client.example 3
verify "$T/jarB" "$linkB" erin@other.example 4
ok "unverified: 403; each counterparty confirms with the mailed code"

ctus "$T/jarA" OPTIONS "$linkA/uploads"
assert_eq "$(status)" 204 "OPTIONS"
assert_eq "$(hdr Tus-Max-Size)" $((16 * MiB)) "Tus-Max-Size is what the request has left"
assert_eq "$(hdr Tus-Extension)" "creation,termination" "extensions"
ctus "$T/jarA" POST "$linkA/uploads" -H "Upload-Length: 10" -H "Origin: https://evil.example" \
	-H "Upload-Metadata: filename $(b64 x.bin)"
assert_eq "$(status)" 403 "creation from another origin"
ccreate "$T/jarA" "$linkA" ../x.bin 10
assert_eq "$(status)" 400 "a bad name"
ctus "$T/jarA" POST "$linkA/uploads" -H "Upload-Length: 10"
assert_eq "$(status)" 400 "creation without metadata"
ok "OPTIONS gives the request's byte budget; cross-origin, bad names, no metadata refused"

# ---- cut, resumed, stored ------------------------------------------------
gen 11 $((3 * MiB + 12345)) "$T/a.bin"
SIZE=$(stat -c %s "$T/a.bin")
ccreate "$T/jarA" "$linkA" "報告 a.bin" "$SIZE"
assert_eq "$(status)" 201 "creation: $(cat "$T/body")"
locA=$(hdr Location)
idA=${locA##*/}
case $locA in "${linkA#https://localhost:$PORT}/uploads/"????????????????????????????????) ;;
*) fail "Location: $locA" ;; esac
assert_eq "$(sqlq "$DB" "SELECT owner_id IS NULL, link_id FROM uploads WHERE id = :i" i="$idA")" \
	"1|$lidA" "the upload is the link's, no user's"
ctus "$T/jarA" HEAD "$URL$locA" -I
assert_eq "$(status)" 200 "HEAD"
assert_eq "$(hdr Upload-Offset)|$(hdr Upload-Length)" "0|$SIZE" "offset and length"

# Isolation: the other link, the requester's token, another user's.
ctus "$T/jarB" HEAD "$linkB/uploads/$idA" -I
assert_eq "$(status)" 404 "HEAD through another link"
ctus "$T/jarB" DELETE "$linkB/uploads/$idA"
assert_eq "$(status)" 404 "DELETE through another link"
ctus "$T/jarB" PATCH "$linkB/uploads/$idA" -H 'Content-Type: application/offset+octet-stream' \
	-H 'Upload-Offset: 0' --data-binary "abc"
assert_eq "$(status)" 404 "PATCH through another link"
ctus "$T/jarB" HEAD "$URL$locA" -I
assert_eq "$(status)" 403 "another link's session on this link"
for t in "$tok" "$tok_b"; do
	curl -sS --cacert "$CA" -I -H "Authorization: Bearer $t" -H 'Tus-Resumable: 1.0.0' \
		-o /dev/null -w '%{http_code}' "$URL/api/v1/uploads/$idA" >"$T/status" || true
	assert_eq "$(status)" 404 "a staff HEAD"
	curl -sS --cacert "$CA" -X DELETE -H "Authorization: Bearer $t" -H 'Tus-Resumable: 1.0.0' \
		-o /dev/null -w '%{http_code}' "$URL/api/v1/uploads/$idA" >"$T/status" || true
	assert_eq "$(status)" 404 "a staff DELETE"
	curl -sS --cacert "$CA" -X PATCH -H "Authorization: Bearer $t" -H 'Tus-Resumable: 1.0.0' \
		-H 'Content-Type: application/offset+octet-stream' -H 'Upload-Offset: 0' \
		--data-binary abc -o /dev/null -w '%{http_code}' "$URL/api/v1/uploads/$idA" \
		>"$T/status" || true
	assert_eq "$(status)" 404 "a staff PATCH"
done
ok "the upload is the link's: another link and staff users (the requester too) get 404"

sent=$($PY "$LIBDIR/tuscut.py" "$PORT" "$CA" "cookie:$(cookie "$T/jarA")" "$locA" "$T/a.bin" 0 \
	$((MiB + 1000)))
assert_eq "$sent" $((MiB + 1000)) "bytes written before the cut"
for _ in $(seq 1 50); do
	ctus "$T/jarA" HEAD "$URL$locA" -I
	[ "$(hdr Upload-Offset)" = 0 ] || break
	sleep 0.1
done
assert_eq "$(hdr Upload-Offset)" "$MiB" "durable offset after the cut: whole chunks"
assert_eq "$(audit_n upload.appended "$idA" partial dan@client.example)" 1 \
	"upload.appended (partial) by the counterparty"
tail -c +$((MiB + 1)) "$T/a.bin" >"$T/rest"
ctus "$T/jarA" PATCH "$URL$locA" -H 'Content-Type: application/offset+octet-stream' \
	-H "Upload-Offset: $MiB" --data-binary "@$T/rest"
assert_eq "$(status)" 204 "the rest: $(cat "$T/body")"
assert_eq "$(hdr Upload-Offset)" "$SIZE" "complete"
ctus "$T/jarA" HEAD "$URL$locA" -I
assert_eq "$(status)" 404 "a finished upload is a file now"
assert_eq "$(sqlq "$DB" "SELECT name, size, sha256, uploader FROM files WHERE id = :i" i="$idA")" \
	"報告 a.bin|$SIZE|$(sha "$T/a.bin")|$lidA" "the file: name, size, SHA-256, uploader"
[ "$(wait_scan "$tok" "$tidA" "$idA")" = clean ] || fail "the counterparty's tus file not clean"
api "$tok" GET "/api/v1/transfers/$tidA/files/$idA" >/dev/null
assert_eq "$(status)" 200 "the requester downloads it"
assert_eq "$(sha "$T/body")" "$(sha "$T/a.bin")" "downloaded SHA-256"
for e in upload.created file.uploaded; do
	assert_eq "$(sqlq "$DB" "SELECT actor_kind || ' ' || actor FROM audit WHERE event = :e AND
		object_id = :o" e=$e o="$idA")" "recipient dan@client.example" "$e by the counterparty"
done
assert_eq "$(sqlq "$DB" "SELECT json_extract(detail, '\$.upload_link') FROM audit
	WHERE event = 'upload.created' AND object_id = :o" o="$idA")" "$lidA" "upload.created names the link"
ok "a PATCH cut after 1 MiB + 1000 keeps 1 MiB; resumed, stored with the source's SHA-256, scanned"

# ---- the official tus-js-client, aborted after a third, resumed ----------
JS=${OKURU_JS_MODULES:-$LIBDIR/../js/node_modules}
[ -d "$JS/tus-js-client" ] || fail "tus-js-client not found in $JS"
command -v node >/dev/null || fail "node not found"
gen 12 $((6 * MiB + 777)) "$T/n.bin"
NODE_EXTRA_CA_CERTS="$CA" OKURU_JS_MODULES="$JS" node "$LIBDIR/../js/tus_upload.js" "$linkA" \
	"cookie:$(cookie "$T/jarA")" - n.bin "$T/n.bin" "$T/tus-store.json" >"$T/node.json" ||
	fail "tus-js-client: $(cat "$T/node.json")"
r=$(cat "$T/node.json")
ju() { $PY -c 'import json,sys; print(eval(sys.argv[1], {"j": json.loads(sys.argv[2])}))' "$1" "$r"; }
assert_eq "$(ju 'j["ok"]')" True "tus-js-client succeeded: $r"
assert_eq "$(ju 'j["previous"]')" 1 "findPreviousUploads found the aborted upload"
assert_eq "$(ju 'j["url"] == j["url2"]')" True "the same upload was resumed"
off=$(ju 'j["offsetAtResume"]')
[ "$off" -gt 0 ] && [ $((off % 65536)) -eq 0 ] && [ "$off" -le "$(ju 'j["sentBeforeAbort"]')" ] ||
	fail "resumed from $off: not whole chunks within what was sent"
idN=$(ju 'j["url"].rsplit("/", 1)[1]')
assert_eq "$(sqlq "$DB" "SELECT sha256, uploader FROM files WHERE id = :i" i="$idN")" \
	"$(sha "$T/n.bin")|$lidA" "the stored SHA-256"
ok "tus-js-client with the counterparty's cookie: aborted, found again, resumed from $off"

# ---- the request's limits ------------------------------------------------
# 16 MiB, of which 3 MiB + 12345 and 6 MiB + 777 are taken.
left=$((16 * MiB - SIZE - 6 * MiB - 777))
ccreate "$T/jarA" "$linkA" over.bin $((left + 1))
assert_eq "$(status)" 413 "Upload-Length over the bytes left: $(cat "$T/body")"
ccreate "$T/jarA" "$linkA" r1.bin $((5 * MiB))
assert_eq "$(status)" 201 "an upload that fits"
loc1=$(hdr Location)
ccreate "$T/jarA" "$linkA" r2.bin $((left - 5 * MiB + 1))
assert_eq "$(status)" 413 "the unfinished upload holds its length: $(cat "$T/body")"
head -c $((left - 5 * MiB + 1)) /dev/zero >"$T/put.bin"
curl -sS --cacert "$CA" -X PUT -b "$T/jarA" -H 'Accept: application/json' -o "$T/body" \
	-w '%{http_code}' --data-binary "@$T/put.bin" "$linkA/files/put.bin" >"$T/status" || true
assert_eq "$(status)" 413 "a PUT respects it too"
ccreate "$T/jarA" "$linkA" r3.bin 10
assert_eq "$(status)" 201 "the fourth place (files and unfinished uploads)"
loc3=$(hdr Location)
ccreate "$T/jarA" "$linkA" r4.bin 10
assert_eq "$(status)" 409 "a fifth: too many files"
# A small PUT (it fits the bytes left) must not take the slot of r3, still
# arriving: with every place held, the PUT is refused before r3 ends.
printf 'tiny' >"$T/tiny.bin"
curl -sS --cacert "$CA" -X PUT -b "$T/jarA" -H 'Accept: application/json' -o "$T/body" \
	-w '%{http_code}' --data-binary "@$T/tiny.bin" "$linkA/files/tiny.bin" >"$T/status" || true
assert_eq "$(status)" 409 "a PUT may not take a slot an unfinished upload holds: $(cat "$T/body")"
ctus "$T/jarA" DELETE "$URL$loc3"
assert_eq "$(status)" 204 "termination"
assert_eq "$(audit_n upload.terminated "${loc3##*/}" ok dan@client.example)" 1 \
	"upload.terminated by the counterparty"
ok "limits: 413 over the bytes left (unfinished uploads holding theirs, a PUT too), 409 over max_files (a PUT too)"

# ---- done ends the link's unfinished uploads -----------------------------
stg1=$(sqlq "$DB" "SELECT staging FROM uploads WHERE id = :i" i="${loc1##*/}")
[ -f "$UP/$stg1" ] || fail "staging file of the unfinished upload"
curl -sS --cacert "$CA" -X POST -b "$T/jarA" -H 'Accept: application/json' -o "$T/body" \
	-w '%{http_code}' "$linkA/done" >"$T/status"
assert_eq "$(status)" 200 "done"
assert_eq "$(sqlq "$DB" "SELECT count(*) FROM uploads WHERE link_id = :l" l="$lidA")" 0 \
	"no unfinished upload left"
[ ! -e "$UP/$stg1" ] || fail "staging file left after done"
assert_eq "$(sqlq "$DB" "SELECT actor || ' ' || json_extract(detail, '\$.reason') FROM audit
	WHERE event = 'upload.terminated' AND object_id = :o" o="${loc1##*/}")" \
	"dan@client.example request_done" "upload.terminated (request_done) by the counterparty"
ccreate "$T/jarA" "$linkA" late.bin 10
assert_eq "$(status)" 404 "creation after done"
ctus "$T/jarA" HEAD "$URL$loc1" -I
assert_eq "$(status)" 404 "HEAD after done"
ok "done: unfinished uploads end (staging files gone, audited); the link takes no more"

# ---- an expired link's uploads end at the purger's run -------------------
ccreate "$T/jarB" "$linkB" b.bin 100000
assert_eq "$(status)" 201 "B's creation"
locB=$(hdr Location)
stgB=$(sqlq "$DB" "SELECT staging FROM uploads WHERE id = :i" i="${locB##*/}")
sqlq "$DB" "UPDATE links SET expires_at = 1 WHERE id = :l" l="$lidB"
ctus "$T/jarB" HEAD "$URL$locB" -I
assert_eq "$(status)" 404 "HEAD on an expired link"
okuru_stop
okuru_start # the purger runs once at start-up
for _ in $(seq 1 50); do
	[ "$(sqlq "$DB" "SELECT count(*) FROM uploads WHERE id = :i" i="${locB##*/}")" = 0 ] && break
	sleep 0.1
done
assert_eq "$(sqlq "$DB" "SELECT actor_kind || ' ' || json_extract(detail, '\$.reason') FROM audit
	WHERE event = 'upload.terminated' AND object_id = :o" o="${locB##*/}")" "system link_ended" \
	"upload.terminated (link_ended) by the system"
[ ! -e "$UP/$stgB" ] || fail "staging file left after the link expired"
ok "an expired link's unfinished upload ends at the purger's run"

okuru_stop
