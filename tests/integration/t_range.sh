#!/bin/bash
# t_range.sh - Range, If-Range, If-None-Match and HEAD on downloads.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
size=300000
head -c $size /dev/urandom >"$T/f"
fid=$(upload_clean "$tok" "$tid" r.bin "$T/f")
etag="\"$fid\""
path="/api/v1/transfers/$tid/files/$fid"

get_range() { # RANGE -> body in $T/part, status, headers in $T/hdr
	curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -H "Range: $1" \
		-D "$T/hdr" -o "$T/part" -w '%{http_code}' "$URL$path" "${@:2}" >"$T/status"
}

expect_part() { # RANGE FIRST LAST
	get_range "$1"
	assert_eq "$(status)" 206 "status for $1"
	len=$(($3 - $2 + 1))
	assert_eq "$(stat -c %s "$T/part")" "$len" "length for $1"
	assert_eq "$(sha "$T/part")" "$(tail -c +$(($2 + 1)) "$T/f" | head -c $len | sha256sum | cut -d' ' -f1)" "bytes for $1"
	assert_contains "$(tr -d '\r' <"$T/hdr")" "Content-Range: bytes $2-$3/$size" "Content-Range for $1"
}

expect_part "bytes=0-0" 0 0
expect_part "bytes=0-99" 0 99
expect_part "bytes=65530-65545" 65530 65545
expect_part "bytes=65536-131071" 65536 131071
expect_part "bytes=1000-250000" 1000 250000
expect_part "bytes=299999-" 299999 299999
expect_part "bytes=100-" 100 299999
expect_part "bytes=-500" 299500 299999
expect_part "bytes=-999999999" 0 299999
expect_part "bytes=299000-999999" 299000 299999
ok "single ranges within, across and at the ends of chunks"

get_range "bytes=300000-"
assert_eq "$(status)" 416 "range past the end"
assert_contains "$(tr -d '\r' <"$T/hdr")" "Content-Range: bytes */$size" "416 Content-Range"
get_range "bytes=-0"
assert_eq "$(status)" 416 "empty suffix range"
ok "unsatisfiable ranges get 416"

get_range "bytes=0-10,20-30"
assert_eq "$(status)" 200 "multiple ranges served whole"
assert_eq "$(sha "$T/part")" "$(sha "$T/f")" "multiple ranges body"
get_range "bytes=abc"
assert_eq "$(status)" 200 "malformed range ignored"
get_range "items=0-10"
assert_eq "$(status)" 200 "other unit ignored"
ok "multi-range and malformed Range answered with the whole file"

get_range "bytes=10-19" -H "If-Range: $etag"
assert_eq "$(status)" 206 "If-Range with current ETag"
get_range "bytes=10-19" -H 'If-Range: "other"'
assert_eq "$(status)" 200 "If-Range with another ETag"
curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -H "If-None-Match: $etag" \
	-o /dev/null -w '%{http_code}' "$URL$path" >"$T/status"
assert_eq "$(status)" 304 "If-None-Match"
ok "ETag, If-Range and If-None-Match"

curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -I "$URL$path" >"$T/hdr"
assert_contains "$(tr -d '\r' <"$T/hdr")" "Content-Length: $size" "HEAD length"
assert_contains "$(tr -d '\r' <"$T/hdr")" "Accept-Ranges: bytes" "HEAD Accept-Ranges"
ok "HEAD"

# Resume: a download cut half way continues with curl -C and matches.
head -c 150000 "$T/f" >"$T/resume"
curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -C - -o "$T/resume" "$URL$path"
assert_eq "$(sha "$T/resume")" "$(sha "$T/f")" "resumed download"
ok "resumed download with curl -C"

: >"$T/empty"
efid=$(upload_clean "$tok" "$tid" empty "$T/empty")
path="/api/v1/transfers/$tid/files/$efid"
get_range "bytes=0-"
assert_eq "$(status)" 416 "range on an empty file"
curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -o "$T/e" -w '%{http_code}' "$URL$path" >"$T/status"
assert_eq "$(status)" 200 "empty file"
assert_eq "$(stat -c %s "$T/e")" 0 "empty file length"
ok "empty file"
okuru_stop
