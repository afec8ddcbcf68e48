#!/bin/bash
# t_tus.sh - resumable uploads (tus 1.0: core, creation, termination) at
# /api/v1/uploads: discovery, creation and its checks, HEAD, PATCH with a
# connection cut in the middle, a durable offset in whole 64 KiB chunks,
# resumption, a restart of okurud mid-upload, completion into an ordinary
# file (scanned, EICAR blocked, downloaded back byte for byte), termination,
# expiry of abandoned uploads, and the official tus-js-client in Node.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
tok=$(okuru_user alice sender)
tok_b=$(okuru_user bob sender)
tok_aud=$(okuru_user carol auditor)
okuru_start
CA="$DATA/tls/cert.pem"
UP="$DATA/storage/uploads"

# A deterministic source (fixed seed), 3 MiB and a bit: not chunk-aligned.
$PY -c 'import random,sys; sys.stdout.buffer.write(random.Random(7).randbytes(3*1024*1024+12345))' >"$T/src.bin"
SIZE=$(stat -c %s "$T/src.bin")

b64() { printf '%s' "$1" | base64 -w0; }

# tus METHOD PATH [curl args] - with Tus-Resumable; headers in $T/hdr, body in $T/body
tus() {
	local m=$1 p=$2
	shift 2
	curl -sS --cacert "$CA" -X "$m" -H "Authorization: Bearer ${TOK:-$tok}" \
		-H 'Tus-Resumable: 1.0.0' -D "$T/hdr" -o "$T/body" -w '%{http_code}' "$@" "$URL$p" \
		>"$T/status" || true
}
hdr() { # NAME - a response header's value
	grep -i "^$1:" "$T/hdr" | tail -n 1 | cut -d' ' -f2- | tr -d '\r'
}
# create TID NAME LENGTH - prints the upload's path
create() {
	tus POST /api/v1/uploads -H "Upload-Length: $3" \
		-H "Upload-Metadata: filename $(b64 "$2"),transfer $(b64 "$1")"
	[ "$(status)" = 201 ] || fail "creation of $2: status $(status): $(cat "$T/body")"
	hdr Location
}
# patch PATH OFFSET FILE [FROM [COUNT]] - PATCH COUNT bytes of FILE from byte FROM
patch() {
	local from=${4:-$2}
	tail -c +$((from + 1)) "$3" | head -c "${5:-999999999999}" >"$T/part"
	tus PATCH "$1" -H "Upload-Offset: $2" -H 'Content-Type: application/offset+octet-stream' \
		--data-binary "@$T/part"
}
offset_of() { # PATH - HEAD's Upload-Offset
	tus HEAD "$1" -I
	[ "$(status)" = 200 ] || fail "HEAD $1: status $(status)"
	hdr Upload-Offset
}
audit_count() { # EVENT OBJECT
	sqlq "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = :e AND object_id = :o" \
		e="$1" o="$2"
}

# ---- discovery ------------------------------------------------------------
tus OPTIONS /api/v1/uploads
assert_eq "$(status)" 204 "OPTIONS"
assert_eq "$(hdr Tus-Resumable)" 1.0.0 "OPTIONS Tus-Resumable"
assert_eq "$(hdr Tus-Version)" 1.0.0 "OPTIONS Tus-Version"
assert_eq "$(hdr Tus-Extension)" creation,termination "OPTIONS Tus-Extension"
assert_eq "$(hdr Tus-Max-Size)" $((2000 * 1024 * 1024)) "OPTIONS Tus-Max-Size (limits.max_file_size)"
curl -sS --cacert "$CA" -X OPTIONS -o /dev/null -w '%{http_code}' "$URL/api/v1/uploads" >"$T/status"
assert_eq "$(status)" 401 "OPTIONS without a token"
ok "OPTIONS names version, extensions and the size limit"

# ---- creation -----------------------------------------------------------------
tid=$(new_transfer "$tok")
curl -sS --cacert "$CA" -X POST -H "Authorization: Bearer $tok" -H "Upload-Length: 10" \
	-H "Upload-Metadata: filename $(b64 a.bin),transfer $(b64 "$tid")" -D "$T/hdr" \
	-o "$T/body" -w '%{http_code}' "$URL/api/v1/uploads" >"$T/status"
assert_eq "$(status)" 412 "creation without Tus-Resumable"
assert_eq "$(hdr Tus-Version)" 1.0.0 "412 names the version"
assert_eq "$(json 'j["error"]' 2>/dev/null)" "Tus-Resumable: 1.0.0 is required" "412 error JSON"
tus POST /api/v1/uploads -H "Upload-Metadata: filename $(b64 a.bin),transfer $(b64 "$tid")"
assert_eq "$(status)" 400 "creation without Upload-Length"
tus POST /api/v1/uploads -H "Upload-Defer-Length: 1" \
	-H "Upload-Metadata: filename $(b64 a.bin),transfer $(b64 "$tid")"
assert_eq "$(status)" 400 "Upload-Defer-Length is not supported"
tus POST /api/v1/uploads -H "Upload-Length: -5" \
	-H "Upload-Metadata: filename $(b64 a.bin),transfer $(b64 "$tid")"
assert_eq "$(status)" 400 "negative Upload-Length"
tus POST /api/v1/uploads -H "Upload-Length: 10" -H "Upload-Metadata: filename a.bin,transfer $(b64 "$tid")"
assert_eq "$(status)" 400 "metadata value not base64"
tus POST /api/v1/uploads -H "Upload-Length: 10" -H "Upload-Metadata: filename $(b64 a.bin)"
assert_eq "$(status)" 400 "metadata without transfer"
tus POST /api/v1/uploads -H "Upload-Length: 10" \
	-H "Upload-Metadata: filename $(b64 a.bin),filename $(b64 b.bin),transfer $(b64 "$tid")"
assert_eq "$(status)" 400 "filename twice"
tus POST /api/v1/uploads -H "Upload-Length: 10" \
	-H "Upload-Metadata: filename $(b64 ../etc/passwd),transfer $(b64 "$tid")"
assert_eq "$(status)" 400 "a name fname_normalize refuses"
tus POST /api/v1/uploads -H "Upload-Length: $((2000 * 1024 * 1024 + 1))" \
	-H "Upload-Metadata: filename $(b64 big.bin),transfer $(b64 "$tid")"
assert_eq "$(status)" 413 "Upload-Length over limits.max_file_size"
TOK=$tok_b tus POST /api/v1/uploads -H "Upload-Length: 10" \
	-H "Upload-Metadata: filename $(b64 a.bin),transfer $(b64 "$tid")"
assert_eq "$(status)" 404 "someone else's transfer"
TOK=$tok_aud tus POST /api/v1/uploads -H "Upload-Length: 10" \
	-H "Upload-Metadata: filename $(b64 a.bin),transfer $(b64 "$tid")"
assert_eq "$(status)" 403 "auditors do not upload"
printf 'hello' >"$T/hello.txt"
upload "$tok" "$tid" hello.txt "$T/hello.txt" >/dev/null
tus POST /api/v1/uploads -H "Upload-Length: 10" \
	-H "Upload-Metadata: filename $(b64 hello.txt),transfer $(b64 "$tid")"
assert_eq "$(status)" 409 "a name the transfer's files already have"
tus POST /api/v1/uploads -H "Upload-Length: 10" -d 'x' \
	-H "Upload-Metadata: filename $(b64 c.bin),transfer $(b64 "$tid")"
assert_eq "$(status)" 400 "creation-with-upload is not supported"
assert_eq "$(ls "$UP" | wc -l)" 0 "no staging file for a refused creation"

loc=$(create "$tid" "売上 2026.bin" "$SIZE")
case $loc in /api/v1/uploads/????????????????????????????????) ;; *) fail "Location: $loc" ;; esac
uid=${loc##*/}
tus POST /api/v1/uploads -H "Upload-Length: 10" \
	-H "Upload-Metadata: filename $(b64 "売上 2026.bin"),transfer $(b64 "$tid")"
assert_eq "$(status)" 409 "a name an unfinished upload has"
assert_eq "$(audit_count upload.created "$uid")" 1 "upload.created recorded"
assert_eq "$(ls "$UP" | wc -l)" 1 "one staging file"
ok "creation: checks as for PUT, 201 with Location, audited"

# ---- HEAD -----------------------------------------------------------------
tus HEAD "$loc" -I
assert_eq "$(status)" 200 "HEAD"
assert_eq "$(hdr Upload-Offset)" 0 "HEAD offset"
assert_eq "$(hdr Upload-Length)" "$SIZE" "HEAD length"
assert_eq "$(hdr Cache-Control)" no-store "HEAD Cache-Control"
assert_eq "$(hdr Tus-Resumable)" 1.0.0 "HEAD Tus-Resumable"
TOK=$tok_b tus HEAD "$loc" -I
assert_eq "$(status)" 404 "HEAD of someone else's upload"
curl -sS --cacert "$CA" -I -H "Authorization: Bearer $tok" -o /dev/null -w '%{http_code}' \
	"$URL$loc" >"$T/status"
assert_eq "$(status)" 412 "HEAD without Tus-Resumable"
tus HEAD /api/v1/uploads/00000000000000000000000000000000 -I
assert_eq "$(status)" 404 "HEAD of no upload"
ok "HEAD: offset and length, no-store, owner only"

# ---- PATCH: refusals --------------------------------------------------------
patch "$loc" 65536 "$T/src.bin" 0 1000
assert_eq "$(status)" 409 "PATCH at the wrong offset"
tus PATCH "$loc" -H 'Upload-Offset: 0' -H 'Content-Type: application/octet-stream' --data-binary 'abc'
assert_eq "$(status)" 415 "PATCH with the wrong Content-Type"
TOK=$tok_b patch "$loc" 0 "$T/src.bin" 0 1000
assert_eq "$(status)" 404 "PATCH of someone else's upload"
head -c $((SIZE + 1)) /dev/zero >"$T/toolong"
patch "$loc" 0 "$T/toolong"
assert_eq "$(status)" 413 "PATCH past Upload-Length"
curl -sS --cacert "$CA" -X PATCH -H "Authorization: Bearer $tok" -H 'Upload-Offset: 0' \
	-H 'Content-Type: application/offset+octet-stream' --data-binary 'abc' \
	-o /dev/null -w '%{http_code}' "$URL$loc" >"$T/status"
assert_eq "$(status)" 412 "PATCH without Tus-Resumable"
assert_eq "$(offset_of "$loc")" 0 "refused PATCHes stored nothing"
ok "PATCH refusals: 409 offset, 415 type, 404 owner, 413 length, 412 version"

# ---- PATCH cut off in the middle ---------------------------------------------
sent=$($PY "$LIBDIR/tuscut.py" "$PORT" "$CA" "$tok" "$loc" "$T/src.bin" 0 $((1024 * 1024 + 1000)))
off=0
for _ in $(seq 1 100); do
	off=$(offset_of "$loc")
	[ "$off" -gt 0 ] && break
	sleep 0.1
done
[ "$off" -gt 0 ] || fail "nothing durable after a cut PATCH of $sent bytes"
[ "$off" -le "$sent" ] || fail "durable offset $off claims more than the $sent bytes sent"
assert_eq $((off % 65536)) 0 "durable offset is whole 64 KiB chunks"
assert_eq "$(adet upload.appended "$uid" 'd["offset"]')" "$off" "upload.appended records the offset"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT outcome FROM audit WHERE event = 'upload.appended' AND object_id = :o" o="$uid")" \
	partial "the cut PATCH is recorded as partial"
ok "a PATCH cut after $sent bytes keeps $off durable bytes"

# A second part, not to the end: the answer's offset is durable too.
patch "$loc" "$off" "$T/src.bin" "$off" 700000
assert_eq "$(status)" 204 "second PATCH: $(cat "$T/body")"
off2=$(hdr Upload-Offset)
[ "$off2" -gt "$off" ] && [ "$off2" -le $((off + 700000)) ] || fail "offset after PATCH: $off2"
assert_eq $((off2 % 65536)) 0 "PATCH answers a durable offset"
assert_eq "$(offset_of "$loc")" "$off2" "HEAD agrees with the PATCH's answer"
ok "a PATCH that stops short answers its durable offset ($off2)"

# One request at a time: while a PATCH holds the upload, others get 423.
$PY "$LIBDIR/tuscut.py" "$PORT" "$CA" "$tok" "$loc" "$T/src.bin" "$off2" 200000 3 >/dev/null &
holder=$!
sleep 1
patch "$loc" "$off2" "$T/src.bin" "$off2" 1000
assert_eq "$(status)" 423 "PATCH while another PATCH holds the upload"
tus DELETE "$loc"
assert_eq "$(status)" 423 "DELETE while a PATCH holds the upload"
wait "$holder"
for _ in $(seq 1 100); do
	[ "$(offset_of "$loc")" -gt "$off2" ] && break
	sleep 0.1
done
off3=$(offset_of "$loc")
[ "$off3" -gt "$off2" ] && [ "$off3" -le $((off2 + 200000)) ] || fail "offset after the held PATCH: $off3"
off2=$off3
ok "a second PATCH or a DELETE during a PATCH gets 423; the held one keeps its chunks"

# ---- restart mid-upload ---------------------------------------------------------
okuru_kill9
okuru_start
assert_eq "$(ls "$UP" | wc -l)" 1 "the staging file survives a restart"
assert_eq "$(offset_of "$loc")" "$off2" "offset after a restart"
patch "$loc" "$off2" "$T/src.bin"
assert_eq "$(status)" 204 "last PATCH: $(cat "$T/body")"
assert_eq "$(hdr Upload-Offset)" "$SIZE" "final offset"
tus HEAD "$loc" -I
assert_eq "$(status)" 404 "a finished upload is no longer an upload"
assert_eq "$(ls "$UP" | wc -l)" 0 "no staging file left"
st=$(wait_scan "$tok" "$tid" "$uid")
assert_eq "$st" clean "the tus file is scanned"
assert_eq "$(file_field "$tok" "$tid" "$uid" "f['name']")" "売上 2026.bin" "file name"
assert_eq "$(file_field "$tok" "$tid" "$uid" "f['sha256']")" "$(sha "$T/src.bin")" "recorded SHA-256"
api "$tok" GET "/api/v1/transfers/$tid/files/$uid" >/dev/null
assert_eq "$(status)" 200 "download"
assert_eq "$(sha "$T/body")" "$(sha "$T/src.bin")" "downloaded bytes"
assert_eq "$(audit_count file.uploaded "$uid")" 1 "file.uploaded recorded"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT count(*) FROM uploads")" 0 "the upload row is gone"
ok "resumed after okurud was killed; stored, scanned and downloaded back intact"

# ---- EICAR through tus ------------------------------------------------------------
eicar >"$T/eicar.txt"
loc=$(create "$tid" eicar.txt "$(stat -c %s "$T/eicar.txt")")
patch "$loc" 0 "$T/eicar.txt"
assert_eq "$(status)" 204 "EICAR PATCH"
fid=${loc##*/}
assert_eq "$(wait_scan "$tok" "$tid" "$fid")" infected "EICAR via tus"
api "$tok" GET "/api/v1/transfers/$tid/files/$fid" >/dev/null
assert_eq "$(status)" 409 "an infected tus file is blocked"
ok "EICAR uploaded through tus is blocked like any other"

# ---- an empty file ------------------------------------------------------------------
: >"$T/empty"
loc=$(create "$tid" empty.txt 0)
assert_eq "$(wait_scan "$tok" "$tid" "${loc##*/}")" clean "empty file"
api "$tok" GET "/api/v1/transfers/$tid/files/${loc##*/}" >/dev/null
assert_eq "$(status):$(stat -c %s "$T/body")" 200:0 "empty file downloads empty"
ok "Upload-Length 0 is a complete (empty) file at once"

# ---- termination ------------------------------------------------------------------
loc=$(create "$tid" gone.bin "$SIZE")
patch "$loc" 0 "$T/src.bin" 0 300000
assert_eq "$(status)" 204 "PATCH before termination"
staging=$(sqlq "$DATA/okuru.db" "SELECT staging FROM uploads WHERE id = :i" i="${loc##*/}")
[ -f "$UP/$staging" ] || fail "staging file $staging missing"
TOK=$tok_b tus DELETE "$loc"
assert_eq "$(status)" 404 "DELETE of someone else's upload"
tus DELETE "$loc"
assert_eq "$(status)" 204 "DELETE"
[ ! -e "$UP/$staging" ] || fail "staging file left after termination"
tus HEAD "$loc" -I
assert_eq "$(status)" 404 "HEAD after termination"
assert_eq "$(adet upload.terminated "${loc##*/}" 'd["reason"]')" client "upload.terminated"
ok "termination removes the row and the staging file, audited"

# ---- expiry and start-up recovery -----------------------------------------------------
loc=$(create "$tid" old.bin "$SIZE")
patch "$loc" 0 "$T/src.bin" 0 200000
staging=$(sqlq "$DATA/okuru.db" "SELECT staging FROM uploads WHERE id = :i" i="${loc##*/}")
okuru_stop
now=$(date +%s)
sqlq "$DATA/okuru.db" "UPDATE uploads SET updated = :t WHERE id = :i" t=$((now - 24 * 3600 - 60)) \
	i="${loc##*/}"
printf 'junk' >"$UP/0123456789abcdef0123456789abcdef.part"
okuru_start
for _ in $(seq 1 100); do
	[ "$(audit_count upload.expired "${loc##*/}")" = 1 ] && break
	sleep 0.1
done
assert_eq "$(audit_count upload.expired "${loc##*/}")" 1 "upload.expired recorded"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT actor_kind FROM audit WHERE event = 'upload.expired'")" system \
	"expired by the system"
[ ! -e "$UP/$staging" ] || fail "staging file left after expiry"
[ ! -e "$UP/0123456789abcdef0123456789abcdef.part" ] || fail "a staging file without a row survived start-up"
tus HEAD "$loc" -I
assert_eq "$(status)" 404 "HEAD of an expired upload"
ok "an upload idle for 24 h expires; stray staging files go at start-up"

# ---- the official tus-js-client in Node -------------------------------------------------
JS=${OKURU_JS_MODULES:-$LIBDIR/../js/node_modules}
if [ ! -d "$JS/tus-js-client" ] || ! command -v node >/dev/null; then
	echo "# SKIP: tus-js-client part: no node or no $JS/tus-js-client"
	exit 0
fi
$PY -c 'import random,sys; sys.stdout.buffer.write(random.Random(20).randbytes(20*1024*1024+4321))' >"$T/big.bin"
tid2=$(new_transfer "$tok")
NODE_EXTRA_CA_CERTS="$CA" OKURU_JS_MODULES="$JS" node "$LIBDIR/../js/tus_upload.js" "$URL" "$tok" \
	"$tid2" big.bin "$T/big.bin" "$T/tus-urls.json" >"$T/js.out" 2>"$T/js.err" ||
	fail "tus-js-client: $(cat "$T/js.out" "$T/js.err")"
jsf() { $PY -c "import json; j=json.load(open('$T/js.out')); print($1)"; }
assert_eq "$(jsf 'j["ok"]')" True "tus-js-client finished"
assert_eq "$(jsf 'j["previous"]')" 1 "tus-js-client found its previous upload"
assert_eq "$(jsf 'j["url"] == j["url2"]')" True "the second Upload resumed the first's URL"
o=$(jsf 'j["offsetAtResume"]')
[ "$o" -gt 0 ] && [ "$o" -le "$(jsf 'j["sentBeforeAbort"]')" ] || fail "offset at resume: $(cat "$T/js.out")"
assert_eq $((o % 65536)) 0 "tus-js-client resumed at whole chunks"
fid=$(jsf 'j["url"].rsplit("/", 1)[1]')
assert_eq "$(wait_scan "$tok" "$tid2" "$fid")" clean "tus-js-client's file scanned"
api "$tok" GET "/api/v1/transfers/$tid2/files/$fid" >/dev/null
assert_eq "$(sha "$T/body")" "$(sha "$T/big.bin")" "tus-js-client's 20 MiB file downloads intact"
ok "tus-js-client: aborted at $(jsf 'j["sentBeforeAbort"]') bytes, resumed at $o, SHA-256 matches"

okuru_stop
