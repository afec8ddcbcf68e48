#!/bin/bash
# t_tamper.sh - damage on disk is detected and never served as data:
# a flipped bit in a chunk, a truncated blob, a missing blob; start-up
# recovery removes staging files and moves unreferenced blobs aside.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
head -c 300000 /dev/urandom >"$T/f"
for n in flip cut gone; do
	api "$tok" PUT "/api/v1/transfers/$tid/files/$n" --data-binary "@$T/f" >/dev/null
	assert_eq "$(status)" 201 "upload $n"
	eval "id_$n=$(json 'j["id"]')"
	eval "st=\$(wait_scan \"\$tok\" \"\$tid\" \"\$id_$n\")"
	assert_eq "$st" clean "scan of $n"
done
okuru_stop
blob() { echo "$DATA/storage/blobs/${1:0:2}/$1"; }

# Flip one bit inside chunk 2 (plaintext bytes 131072..196607).
off=$((48 + 2 * (65536 + 16) + 1000))
$PY - "$(blob "$id_flip")" "$off" <<'PYEOF'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x10]))
PYEOF
# Cut the last 20 bytes off another; delete the third.
truncate -s -20 "$(blob "$id_cut")"
rm "$(blob "$id_gone")"
# Debris of a crash: a staging file and a blob no row names.
head -c 1000 /dev/urandom >"$DATA/storage/tmp/0123456789abcdef0123456789abcdef.part"
orphan=fedcba9876543210fedcba9876543210
head -c 1000 /dev/urandom >"$DATA/storage/blobs/fe/$orphan"
okuru_start

grep -q "event=recover.staging_removed" "$LOG" || fail "staging file not reported"
[ -z "$(ls -A "$DATA/storage/tmp")" ] || fail "staging file left"
[ ! -e "$DATA/storage/blobs/fe/$orphan" ] || fail "orphan blob still in blobs/"
[ -e "$DATA/storage/orphans/$orphan" ] || fail "orphan blob not moved to orphans/"
ok "recovery removes staging files and moves orphan blobs aside"

get() { # FILEID [curl args] -> status in $T/status, body in $T/out, curl rc in $T/rc
	fid=$1
	shift
	set +e
	curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -o "$T/out" \
		-w '%{http_code}' "$@" "$URL/api/v1/transfers/$tid/files/$fid" >"$T/status" 2>/dev/null
	echo $? >"$T/rc"
	set -e
}
# Chunk 0 and 1 still read; a range in chunk 2 is refused before any byte.
get "$id_flip" -H "Range: bytes=0-131071"
assert_eq "$(status)" 206 "undamaged range"
assert_eq "$(sha "$T/out")" "$(head -c 131072 "$T/f" | sha256sum | cut -d' ' -f1)" "undamaged bytes"
get "$id_flip" -H "Range: bytes=140000-140100"
assert_eq "$(status)" 500 "range in the damaged chunk"
# The whole file: the transfer breaks off, and what arrived is a true prefix.
get "$id_flip"
[ "$(cat "$T/rc")" -ne 0 ] || fail "damaged file downloaded without error"
got=$(stat -c %s "$T/out")
[ "$got" -le 131072 ] || fail "bytes past the damaged chunk were sent ($got)"
assert_eq "$(sha "$T/out")" "$(head -c "$got" "$T/f" | sha256sum | cut -d' ' -f1)" "prefix before the damage"
grep -q "event=download.integrity_failed" "$LOG" || fail "integrity failure not logged"
ok "a flipped bit is detected; no wrong byte is served"

api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(json '[f["state"] for f in j["files"] if f["id"]=="'"$id_cut"'"][0]')" broken "truncated blob state"
assert_eq "$(json '[f["state"] for f in j["files"] if f["id"]=="'"$id_gone"'"][0]')" broken "missing blob state"
assert_eq "$(json '[f["state"] for f in j["files"] if f["id"]=="'"$id_flip"'"][0]')" clean "flipped blob keeps its state until read"
get "$id_cut"
assert_eq "$(status)" 410 "truncated blob"
get "$id_gone"
assert_eq "$(status)" 410 "missing blob"
grep -q "event=recover.row_broken" "$LOG" || fail "broken rows not logged"
ok "truncated and missing blobs are marked broken and never served"
okuru_stop
