#!/bin/bash
# t_limits.sh - bounded inputs: body size (declared and chunked), JSON size,
# depth and shape, header and URL size, files per transfer, slow clients and
# the per-IP connection limit. Nothing already stored is lost.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
conf_set limits max_file_size 100000
conf_set limits max_files_per_transfer 3
conf_set limits header_timeout 2
conf_set limits min_body_rate 1000
conf_set limits rate_window 2
conf_set limits max_connections_per_ip 4
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
head -c 100000 /dev/urandom >"$T/exact"
api "$tok" PUT "/api/v1/transfers/$tid/files/keep.bin" --data-binary "@$T/exact" >/dev/null
assert_eq "$(status)" 201 "file of exactly the limit"
keep=$(json 'j["id"]')
assert_eq "$(wait_scan "$tok" "$tid" "$keep")" clean "scan of the kept file"

head -c 100001 /dev/urandom >"$T/over"
api "$tok" PUT "/api/v1/transfers/$tid/files/over.bin" --data-binary "@$T/over" >/dev/null
assert_eq "$(status)" 413 "declared size over the limit"
assert_contains "$(cat "$T/body")" "file too large" "413 message"
api "$tok" PUT "/api/v1/transfers/$tid/files/over2.bin" -H 'Transfer-Encoding: chunked' \
	--data-binary "@$T/over" >/dev/null
assert_eq "$(status)" 413 "chunked body over the limit"
api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(json 'len(j["files"])')" 1 "nothing kept of refused uploads"
[ -z "$(ls -A "$DATA/storage/tmp")" ] || fail "staging left after 413"
assert_eq "$(find "$DATA/storage/blobs" -type f | wc -l)" 1 "one blob on disk"
curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -o "$T/back" \
	"$URL/api/v1/transfers/$tid/files/$keep"
assert_eq "$(sha "$T/back")" "$(sha "$T/exact")" "stored file intact after refusals"
ok "size limit: 413, nothing kept, nothing lost"

printf 'a' >"$T/small"
api "$tok" PUT "/api/v1/transfers/$tid/files/2" --data-binary "@$T/small" >/dev/null
api "$tok" PUT "/api/v1/transfers/$tid/files/3" --data-binary "@$T/small" >/dev/null
api "$tok" PUT "/api/v1/transfers/$tid/files/4" --data-binary "@$T/small" >/dev/null
assert_eq "$(status)" 409 "files per transfer"
ok "files per transfer limit"

$PY -c 'print("{\"subject\":\"" + "a"*70000 + "\"}")' >"$T/bigjson"
api "$tok" POST /api/v1/transfers -H 'Content-Type: application/json' --data-binary "@$T/bigjson" >/dev/null
assert_eq "$(status)" 413 "JSON body too large"
$PY -c 'print("["*50 + "]"*50)' >"$T/deep"
api "$tok" POST /api/v1/transfers -H 'Content-Type: application/json' --data-binary "@$T/deep" >/dev/null
assert_eq "$(status)" 400 "JSON too deep"
assert_contains "$(cat "$T/body")" "nested too deeply" "depth message"
api "$tok" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{"subject":' >/dev/null
assert_eq "$(status)" 400 "invalid JSON"
api "$tok" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{"subject":"a","subject":"b"}' >/dev/null
assert_eq "$(status)" 400 "duplicate keys"
api "$tok" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{"owner_id":1}' >/dev/null
assert_eq "$(status)" 400 "unknown field"
api "$tok" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{"subject":"a\nb"}' >/dev/null
assert_eq "$(status)" 400 "control character in subject"
api "$tok" POST /api/v1/transfers -H 'Content-Type: text/plain' -d '{}' >/dev/null
assert_eq "$(status)" 415 "wrong content type"
ok "JSON bodies are bounded and checked"

big=$($PY -c 'print("a"*20000)')
curl -sS --cacert "$DATA/tls/cert.pem" -H "X-Big: $big" -o /dev/null -w '%{http_code}' "$URL/healthz" >"$T/status" || true
case "$(status)" in 431 | 413 | 400) ;; *) fail "oversized header got $(status)" ;; esac
long=$($PY -c 'print("a"*3000)')
curl -sS --cacert "$DATA/tls/cert.pem" -o /dev/null -w '%{http_code}' "$URL/$long" >"$T/status" || true
case "$(status)" in 414 | 431) ;; *) fail "long URL got $(status)" ;; esac
ok "header and URL size limits"

# Slow clients: header_timeout 2 s, min_body_rate 1000 B/s over 2 s.
t=$($PY "$LIBDIR/slowclient.py" idle "$PORT" "$DATA/tls/cert.pem")
$PY -c "import sys; t=float('$t'); sys.exit(0 if 1.5 <= t <= 6 else 1)" || fail "idle client closed after $t s"
t=$($PY "$LIBDIR/slowclient.py" headers "$PORT" "$DATA/tls/cert.pem")
$PY -c "import sys; t=float('$t'); sys.exit(0 if 1.5 <= t <= 6 else 1)" || fail "slow-header client closed after $t s"
grep -q 'event=http.header_timeout' "$LOG" || fail "no header_timeout event logged"
t=$($PY "$LIBDIR/slowclient.py" body "$PORT" "$DATA/tls/cert.pem" "$tok" "/api/v1/transfers/$(new_transfer "$tok")/files/slow.bin")
$PY -c "import sys; t=float('$t'); sys.exit(0 if 1.5 <= t <= 8 else 1)" || fail "slow-body client closed after $t s"
grep -q 'event=http.body_too_slow' "$LOG" || fail "no body_too_slow event logged"
[ -z "$(ls -A "$DATA/storage/tmp")" ] || fail "staging left after a cut-off upload"
ok "idle, slow-header and slow-body clients are cut off"

# Per-IP limit 4: four idle connections fill it; a fifth request fails.
idle=""
for i in 1 2 3 4; do
	$PY "$LIBDIR/slowclient.py" idle "$PORT" "$DATA/tls/cert.pem" >/dev/null &
	idle="$idle $!"
done
sleep 0.5
if curl -sS --max-time 5 --cacert "$DATA/tls/cert.pem" -o /dev/null "$URL/healthz" 2>/dev/null; then
	fail "fifth connection from one IP was served"
fi
# shellcheck disable=SC2086
wait $idle
curl -sS --cacert "$DATA/tls/cert.pem" -o /dev/null "$URL/healthz" || fail "served again after the idle ones were cut"
ok "per-IP connection limit"
okuru_stop
