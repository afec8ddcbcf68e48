#!/bin/bash
# t_roundtrip.sh - random files of awkward sizes go up and come back
# byte-identical; the data directory never holds plaintext or client names.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")

i=0
for size in 0 1 65535 65536 65537 131072 3145733; do
	i=$((i + 1))
	head -c "$size" /dev/urandom >"$T/f$i"
	api "$tok" PUT "/api/v1/transfers/$tid/files/file$i.bin" --data-binary "@$T/f$i" >/dev/null
	assert_eq "$(status)" 201 "upload of $size bytes"
	assert_eq "$(json 'j["size"]')" "$size" "reported size"
	assert_eq "$(json 'j["sha256"]')" "$(sha "$T/f$i")" "reported sha256 of $size bytes"
	fid=$(json 'j["id"]')
	assert_eq "$(wait_scan "$tok" "$tid" "$fid")" clean "scan of $size bytes"
	curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" \
		-o "$T/back$i" "$URL/api/v1/transfers/$tid/files/$fid"
	assert_eq "$(sha "$T/back$i")" "$(sha "$T/f$i")" "download of $size bytes"
done
ok "round trip of sizes 0..3 MiB (hashes match)"

# A file sent with chunked transfer encoding (no Content-Length).
head -c 200000 /dev/urandom >"$T/chunked"
api "$tok" PUT "/api/v1/transfers/$tid/files/chunked.bin" -H 'Transfer-Encoding: chunked' \
	--data-binary "@$T/chunked" >/dev/null
assert_eq "$(status)" 201 "chunked upload"
assert_eq "$(json 'j["sha256"]')" "$(sha "$T/chunked")" "chunked sha256"
assert_eq "$(wait_scan "$tok" "$tid" "$(json 'j["id"]')")" clean "scan of the chunked upload"
ok "chunked upload"

# Japanese name, percent-encoded in the path, comes back in Content-Disposition.
name='報告書 2026年度.pdf'
enc=$($PY -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$name")
printf 'OKURU-PLAINTEXT-MARKER-%.0s' $(seq 1 2000) >"$T/marker.txt"
api "$tok" PUT "/api/v1/transfers/$tid/files/$enc" --data-binary "@$T/marker.txt" >/dev/null
assert_eq "$(status)" 201 "Japanese name upload"
assert_eq "$(json 'j["name"]')" "$name" "stored name"
fid=$(json 'j["id"]')
assert_eq "$(wait_scan "$tok" "$tid" "$fid")" clean "scan of the Japanese-named file"
curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -D "$T/hdr" -o "$T/jp" \
	"$URL/api/v1/transfers/$tid/files/$fid"
assert_contains "$(cat "$T/hdr")" "filename*=UTF-8''$enc" "RFC 5987 filename"
assert_contains "$(cat "$T/hdr")" 'filename="___ 2026__.pdf"' "ASCII fallback"
assert_eq "$(sha "$T/jp")" "$(sha "$T/marker.txt")" "Japanese-named file content"
ok "Japanese file name round trip"

api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 200 "transfer show"
assert_eq "$(json 'len(j["files"])')" 9 "file count"
assert_eq "$(json 'all(f["state"]=="clean" for f in j["files"])')" True "states"
ok "transfer lists every file with size and hash"

# No plaintext anywhere under the data directory (database included).
if grep -rqa "OKURU-PLAINTEXT-MARKER" "$DATA"; then fail "plaintext found in data dir"; fi
# Slices of a random file must not appear anywhere in the storage area.
$PY - "$T/f7" "$DATA" <<'PYEOF' || fail "random plaintext found in the data dir"
import os, sys
src = open(sys.argv[1], "rb").read()
needles = [src[o:o + 32] for o in (0, 70000, 1500000, len(src) - 32)]
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        data = open(os.path.join(root, f), "rb").read()
        if any(n in data for n in needles):
            sys.exit(1)
PYEOF
# Blobs are named by server ids only.
bad=$(find "$DATA/storage/blobs" -type f | grep -Ev '/blobs/[0-9a-f]{2}/[0-9a-f]{32}$' || true)
[ -z "$bad" ] || fail "blob with a non-id name: $bad"
if find "$DATA/storage" | grep -q "報告書"; then fail "client name used on disk"; fi
[ -z "$(ls -A "$DATA/storage/tmp")" ] || fail "staging files left behind"
ok "no plaintext or client name in the storage area"
okuru_stop
