#!/bin/bash
# t_tls.sh - HTTPS only: TLS 1.2/1.3 with ECDHE + AEAD suites, old versions
# and CBC/RSA-kx suites refused, security headers on every response, no
# server banner, plain HTTP not answered.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
okuru_start

handshake() { # openssl s_client args -> 0 when the handshake succeeds
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$DATA/tls/cert.pem" "$@" >"$T/sc" 2>&1
	grep -q "Verify return code: 0" "$T/sc" && grep -q "Cipher is " "$T/sc" \
		&& ! grep -q "Cipher is (NONE)" "$T/sc"
}

handshake -tls1_3 || fail "TLS 1.3 handshake"
grep -q "TLS_AES_256_GCM_SHA384" "$T/sc" || fail "TLS 1.3 did not pick AES-256-GCM first"
handshake -tls1_2 || fail "TLS 1.2 handshake"
grep -q "ECDHE-ECDSA-AES256-GCM-SHA384" "$T/sc" || fail "TLS 1.2 did not pick ECDHE-ECDSA-AES256-GCM"
ok "TLS 1.3 and 1.2 with AES-256-GCM preferred"

for v in -tls1 -tls1_1; do
	if handshake "$v" -cipher 'DEFAULT:@SECLEVEL=0'; then fail "$v accepted"; fi
done
for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA384 AES128-GCM-SHA256 ECDHE-ECDSA-AES128-SHA256; do
	if handshake -tls1_2 -cipher "$c"; then fail "TLS 1.2 suite $c accepted"; fi
done
ok "TLS 1.0/1.1, CBC and non-ECDHE suites refused"

curl -sS --cacert "$DATA/tls/cert.pem" -D "$T/hdr" -o /dev/null "$URL/healthz"
h=$(tr -d '\r' <"$T/hdr")
assert_contains "$h" "Strict-Transport-Security: max-age=63072000" "HSTS"
assert_contains "$h" "X-Content-Type-Options: nosniff" "nosniff"
assert_contains "$h" "Content-Security-Policy: default-src 'none'" "CSP"
assert_contains "$h" "Referrer-Policy: no-referrer" "Referrer-Policy"
if printf '%s' "$h" | grep -qi '^Server:'; then fail "Server banner present"; fi
if printf '%s' "$h" | grep -qi 'microhttpd'; then fail "library named in headers"; fi
# The same headers on errors.
curl -sS --cacert "$DATA/tls/cert.pem" -D "$T/hdr" -o /dev/null "$URL/api/v1/transfers"
assert_contains "$(tr -d '\r' <"$T/hdr")" "Strict-Transport-Security" "HSTS on a 401"
ok "security headers, no banner"

# Keep-alive: two requests on one connection.
curl -sS -v --cacert "$DATA/tls/cert.pem" -o /dev/null -o /dev/null "$URL/healthz" "$URL/healthz" 2>"$T/v"
grep -q "Re-using existing connection" "$T/v" || fail "keep-alive not used"
ok "keep-alive"

# Plain HTTP on the TLS port gets no HTTP answer.
if curl -sS --max-time 5 "http://127.0.0.1:$PORT/healthz" -o "$T/plain" 2>/dev/null; then
	grep -q '"status"' "$T/plain" && fail "plain HTTP was answered"
fi
ok "no plain HTTP"
okuru_stop
