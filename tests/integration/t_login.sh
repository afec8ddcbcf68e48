#!/bin/bash
# t_login.sh - staff login in a browser, over the API the pages use: a
# password and RFC 6238 codes (computed here with Python's hmac from the
# secret the enrolment shows), one answer for every wrong credential,
# lockout and unlock, the per-address limit, the cookie's attributes, CSRF
# and Origin checks, idle and absolute expiry, logout and logout
# everywhere, single sign-on from a trusted proxy only, and TLS client
# certificates. okurud runs under a frozen fake clock, so every code and
# every timeout is the same on every run.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
faketime_available

okuru_init
conf_set auth lockout_failures 3
conf_set auth lockout_time 600
conf_set auth session_idle 300
conf_set auth session_max 3600
conf_set auth login_per_minute 1000
staff_user taro sender 'correct horse battery' >/dev/null
staff_user hana sender 'hana hana hana hana' >/dev/null
NOW=1795000000 # 2026-11-18 08:26:40 UTC, step 59833333
at() { clock "$($PY -c 'import sys, datetime; print(datetime.datetime.fromtimestamp(int(sys.argv[1]), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))' "$1")"; }
at $NOW
okuru_start_faked

# s JAR METHOD PATH [curl args] - a browser-like request with cookie jar JAR;
# body in $T/body, headers in $T/hdr, status in $T/status
s() {
	local jar=$1 method=$2 path=$3
	shift 3
	curl -sS --cacert "$DATA/tls/cert.pem" -b "$T/$jar" -c "$T/$jar" -X "$method" \
		-D "$T/hdr" -o "$T/body" -w '%{http_code}' "$@" "$URL$path" >"$T/status" || true
}
J=(-H 'Content-Type: application/json')
login() { # JAR USER PASSWORD [CODE]
	local b
	b=$(jq -nc --arg u "$2" --arg p "$3" --arg c "${4:-}" '{user: $u, password: $p} + (if $c == "" then {} else {code: $c} end)')
	s "$1" POST /api/v1/session "${J[@]}" -d "$b"
}
# totp SECRET UNIXTIME - the six digits (RFC 6238, SHA-1, 30 s)
totp() {
	$PY -c 'import base64, hmac, hashlib, struct, sys
s = sys.argv[1]; k = base64.b32decode(s + "=" * (-len(s) % 8))
m = hmac.new(k, struct.pack(">Q", int(sys.argv[2]) // 30), hashlib.sha1).digest()
o = m[19] & 15
print("%06d" % ((struct.unpack(">I", m[o:o + 4])[0] & 0x7fffffff) % 1000000))' "$1" "$2"
}
csrf() { s "$1" GET /api/v1/session; json 'j["csrf"]'; }
q() { sqlq "$DATA/okuru.db" "$@"; }

# ---- what the login page learns before anyone logs in
s anon GET /api/v1/session
assert_eq "$(status)" 401 "no session: 401"
assert_eq "$(json 'j["methods"]')" "['password']" "only the password way in is offered"
assert_eq "$(json 'j["totp_required"]')" True "a second factor is required"
ok "GET /api/v1/session names the ways in"

# ---- every wrong credential gets the same answer
refused='wrong user name, password or code'
login a taro 'wrong horse battery'
assert_eq "$(status) $(json 'j["error"]')" "401 $refused" "wrong password"
login a nobody 'correct horse battery'
assert_eq "$(status) $(json 'j["error"]')" "401 $refused" "unknown user"
s a POST /api/v1/session -H 'Content-Type: text/plain' -d '{"user":"taro","password":"correct horse battery"}'
assert_eq "$(status)" 415 "a login that is not JSON (an HTML form) is refused"
s a POST /api/v1/session "${J[@]}" -H 'Origin: https://evil.example' -d '{"user":"taro","password":"correct horse battery"}'
assert_eq "$(status)" 403 "a login from another origin is refused"
s a POST /api/v1/session "${J[@]}" -d '{"user":"taro","password":"correct horse battery","admin":true}'
assert_eq "$(status)" 400 "unknown fields are refused"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND json_extract(detail, '\$.reason') = 'unknown_user' AND json_extract(detail, '\$.user') = 'nobody'" e=auth.login_failed)" 1 "unknown user recorded"
ok "wrong password and unknown user: one 401; not JSON 415, foreign origin 403"

# ---- first login: the session may only set up the authenticator app
login a taro 'correct horse battery'
assert_eq "$(status)" 200 "first login"
assert_eq "$(json 'j["stage"]')" enroll "stage enroll"
cookie=$(grep -i '^set-cookie:' "$T/hdr" | tr -d '\r')
for attr in '__Host-okuru=oks_' 'Path=/' 'Secure' 'HttpOnly' 'SameSite=Strict' 'Max-Age=3600'; do
	assert_contains "$cookie" "$attr" "cookie has $attr"
done
ok "the cookie is __Host-, Secure, HttpOnly, SameSite=Strict"
cookieval=$(awk '$6 == "__Host-okuru" {print $7}' "$T/a")
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT count(*) FROM sessions WHERE hash = :v OR id = :v" v="$cookieval")" 0 "the cookie itself is not stored"
C=$(json 'j["csrf"]')
s a POST /api/v1/transfers "${J[@]}" -H "X-CSRF-Token: $C" -d '{}'
assert_eq "$(status) $(json 'j["error"]')" "403 set up your authenticator app first" "enroll stage cannot create a transfer"
s a GET /api/v1/transfers
assert_eq "$(status)" 403 "enroll stage cannot list transfers"
s a POST /api/v1/session/totp "${J[@]}" -d '{}'
assert_eq "$(status)" 403 "enrolment without the CSRF token"
s a POST /api/v1/session/totp "${J[@]}" -H "X-CSRF-Token: $C" -d '{}'
assert_eq "$(status)" 200 "enrolment begins"
secret=$(json 'j["secret"]')
assert_eq "$(json 'j["uri"]')" "otpauth://totp/okuru:taro?secret=$secret&issuer=okuru&algorithm=SHA1&digits=6&period=30" "otpauth URI"
s a GET /api/v1/session/totp/qr.svg
assert_eq "$(status)" 200 "QR code"
assert_contains "$(tr -d '\r' <"$T/hdr")" "Content-Type: image/svg+xml" "QR is SVG"
assert_contains "$(head -c 200 "$T/body")" "<svg" "QR body"
if grep -q "$secret" "$DATA/okuru.db" "$DATA"/okuru.db-wal 2>/dev/null; then fail "the TOTP secret is in the database in the clear"; fi
s a POST /api/v1/session/totp/confirm "${J[@]}" -H "X-CSRF-Token: $C" -d '{"code":"000000"}'
code=$(totp "$secret" $NOW)
[ "$code" != 000000 ] || fail "pick another NOW: its code is 000000"
assert_eq "$(status)" 400 "a wrong code does not confirm"
s a POST /api/v1/session/totp/confirm "${J[@]}" -H "X-CSRF-Token: $C" -d "{\"code\":\"$code\"}"
assert_eq "$(status) $(json 'j["stage"]')" "200 full" "the right code confirms; the session is full"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND actor = 'taro'" e=totp.enrolled)" 1 "totp.enrolled recorded"
ok "enrolment: secret, URI, QR, wrong code refused, right code moves the session to full"

# ---- CSRF and Origin on a full session
s a POST /api/v1/transfers "${J[@]}" -d '{"subject":"x"}'
assert_eq "$(status)" 403 "no CSRF token"
# The token with its last character changed (to A, or B when it was A: a
# random token ends in A now and then, and must still be a wrong one).
case $C in *A) badC=${C%?}B ;; *) badC=${C%?}A ;; esac
s a POST /api/v1/transfers "${J[@]}" -H "X-CSRF-Token: $badC" -d '{"subject":"x"}'
assert_eq "$(status)" 403 "wrong CSRF token"
s a POST /api/v1/transfers "${J[@]}" -H "X-CSRF-Token: $C" -H 'Origin: https://evil.example' -d '{"subject":"x"}'
assert_eq "$(status)" 403 "foreign Origin"
s a POST /api/v1/transfers "${J[@]}" -H "X-CSRF-Token: $C" -H "Origin: $URL" -d '{"subject":"x"}'
assert_eq "$(status)" 201 "with the CSRF token"
tid=$(json 'j["id"]')
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT actor FROM audit WHERE event = 'transfer.created' AND object_id = :t" t="$tid")" taro "created as taro"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND json_extract(detail, '\$.reason') = 'csrf'" e=auth.failed)" 4 "each refusal recorded (3 here, 1 at enrolment)"
s a GET /api/v1/transfers
assert_eq "$(status)" 200 "a GET needs no CSRF token"
ok "changes need the CSRF token and our Origin; GET does not"

# ---- logging in with the code; each code works once
login b taro 'correct horse battery'
assert_eq "$(status) $(json 'j["error"]')" "401 $refused" "no code"
login b taro 'correct horse battery' 123456
assert_eq "$(status)" 401 "wrong code"
next=$(totp "$secret" $((NOW + 30)))
login b taro 'correct horse battery' "$next"
assert_eq "$(status) $(json 'j["stage"]')" "200 full" "the next step's code logs in"
login c taro 'correct horse battery' "$code"
assert_eq "$(status)" 401 "the code used for the enrolment is used up"
login c taro 'correct horse battery' "$next"
assert_eq "$(status)" 401 "the same code twice"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND actor = 'taro' AND json_extract(detail, '\$.totp') = 1" e=auth.login)" 1 "auth.login with totp"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND object_id = 'taro' AND json_extract(detail, '\$.reason') = 'bad_code'" e=auth.login_failed)" 3 "bad codes recorded"
# a success clears the count of failures in a row
at $((NOW + 30))
login c taro 'correct horse battery' "$(totp "$secret" $((NOW + 60)))"
assert_eq "$(status)" 200 "a later step logs in"
ok "password + code; no code, a wrong code and a used code refused"

# ---- lockout after 3 failures in a row; no guess is checked while locked
login c taro 'wrong 1'
login c taro 'wrong 2'
assert_eq "$(status)" 401 "second failure"
login c taro 'wrong 3'
assert_eq "$(status)" 429 "the third failure locks"
assert_contains "$(tr -d '\r' <"$T/hdr")" "Retry-After: 600" "Retry-After"
at $((NOW + 60))
login c taro 'correct horse battery' "$(totp "$secret" $((NOW + 90)))"
assert_eq "$(status)" 429 "locked: even the right password and code are refused"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND object_id = 'taro'" e=auth.locked)" 1 "auth.locked recorded"
"$OKURUCTL" -c "$CONF" user unlock taro >/dev/null
login c taro 'correct horse battery' "$(totp "$secret" $((NOW + 90)))"
assert_eq "$(status)" 200 "after okuructl user unlock"
# the lock ends by itself, too
for i in 1 2 3; do login d hana "nope $i"; done
assert_eq "$(status)" 429 "hana locked"
at $((NOW + 60 + 601))
login d hana 'hana hana hana hana'
assert_eq "$(status) $(json 'j["stage"]')" "200 enroll" "the lock ran out"
ok "three failures lock; the lock holds against the right password; unlock and expiry end it"

# ---- guesses sent in parallel cannot outrun the lock: each is counted first
staff_user jiro sender 'jiro jiro jiro jiro' >/dev/null
pids=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -sS --cacert "$DATA/tls/cert.pem" -o /dev/null -w '%{http_code}\n' "${J[@]}" \
		-d "{\"user\":\"jiro\",\"password\":\"guess $i\"}" "$URL/api/v1/session" >"$T/par.$i" &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
# Three take the three slots and are judged (the first failure recorded
# finds all three counted and locks); all ten are answered 429.
assert_eq "$(cat "$T"/par.* | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" "429:10 " "all refused"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND object_id = 'jiro' AND json_extract(detail, '\$.reason') = 'bad_password'" e=auth.login_failed)" 3 "three guesses judged"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND object_id = 'jiro'" e=auth.locked)" 1 "locked once"
ok "ten guesses at once: three are checked, seven refused before any work"

# ---- sessions end: idle, absolute, logout, everywhere
T0=$((NOW + 661))
login e hana 'hana hana hana hana'
at $((T0 + 299))
s e GET /api/v1/session
assert_eq "$(status)" 200 "used within the idle time"
at $((T0 + 299 + 301))
s e GET /api/v1/session
assert_eq "$(status)" 401 "idle for more than 300 s"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND actor = 'hana' AND json_extract(detail, '\$.reason') = 'idle'" e=auth.session_expired)" 1 "idle expiry recorded"
T1=$((T0 + 600))
login f hana 'hana hana hana hana'
for k in 1 2 3 4 5 6 7 8 9 10 11 12 13; do
	at $((T1 + k * 290))
	s f GET /api/v1/session
done
assert_eq "$(status)" 401 "used all along, but older than 3600 s"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND actor = 'hana' AND json_extract(detail, '\$.reason') = 'expired'" e=auth.session_expired)" 1 "absolute expiry recorded"
T2=$((T1 + 13 * 290))
at $T2
login g hana 'hana hana hana hana'
login h hana 'hana hana hana hana'
s g DELETE /api/v1/session -H "X-CSRF-Token: $(csrf g)"
assert_eq "$(status)" 200 "logout"
assert_contains "$(tr -d '\r' <"$T/hdr")" "Max-Age=0" "the cookie is removed"
s h GET /api/v1/session
assert_eq "$(status)" 200 "the other session lives on"
login g hana 'hana hana hana hana'
s g POST /api/v1/session/end-all "${J[@]}" -H "X-CSRF-Token: $(csrf g)" -d '{}'
assert_eq "$(status) $(json 'j["ended"]')" "200 3" "logout everywhere ends g, h and the unused one from the unlock test"
s h GET /api/v1/session
assert_eq "$(status)" 401 "the other session has ended too"
"$OKURUCTL" -c "$CONF" user disable hana >/dev/null
login g hana 'hana hana hana hana'
assert_eq "$(status) $(json 'j["error"]')" "401 $refused" "a disabled user gets the same answer"
ok "idle and absolute timeouts, logout, logout everywhere, disabled user"

# ---- API tokens keep working beside sessions
tok=$("$OKURUCTL" -c "$CONF" user token taro | tail -n 1)
api "$tok" GET /api/v1/session >/dev/null
assert_eq "$(status) $(json 'j["method"]')" "200 token" "a token's GET /api/v1/session"
api "$tok" POST /api/v1/transfers "${J[@]}" -d '{}' >/dev/null
assert_eq "$(status)" 201 "a token needs no CSRF token"
ok "API tokens work as before"
okuru_stop

# ---- single sign-on through a trusted proxy; client certificates
ca="$T/clientca"
mkdir -p "$ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/O=Bank CA/CN=Staff CA" \
	-keyout "$ca/ca.key" -out "$ca/ca.pem" 2>/dev/null
client() { # NAME SUBJECT CAKEY CAPEM
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" \
		-keyout "$ca/$1.key" -out "$ca/$1.csr" 2>/dev/null
	printf 'extendedKeyUsage = clientAuth\n' >"$ca/$1.ext"
	openssl x509 -req -in "$ca/$1.csr" -CA "$4" -CAkey "$3" -CAcreateserial -days 1 \
		-extfile "$ca/$1.ext" -out "$ca/$1.pem" 2>/dev/null
}
client taro "/O=Example Bank/CN=taro" "$ca/ca.key" "$ca/ca.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Rogue CA" \
	-keyout "$ca/rogue.key" -out "$ca/rogue.pem" 2>/dev/null
client fake "/O=Example Bank/CN=taro" "$ca/rogue.key" "$ca/rogue.pem"
conf_set auth proxy_header '"X-Remote-User"'
conf_set auth proxy_addresses '["127.0.0.1"]'
conf_set auth client_ca "\"$ca/ca.pem\""
"$OKURUCTL" -c "$CONF" user cert taro "CN=taro,O=Example Bank" >/dev/null
okuru_start

s p GET /api/v1/session
assert_eq "$(json 'j["methods"]')" "['password', 'proxy', 'certificate']" "all three ways in offered"
s p POST /api/v1/session/sso "${J[@]}" -H 'X-Remote-User: taro' -d '{}'
assert_eq "$(status) $(json 'j["method"]') $(json 'j["user"]["name"]')" "200 proxy taro" "SSO from the proxy"
s q POST /api/v1/session/sso "${J[@]}" -H 'X-Remote-User: taro' --interface 127.0.0.2 -d '{}'
assert_eq "$(status)" 403 "the same header from another address"
s q POST /api/v1/session/sso "${J[@]}" -H 'X-Remote-User: nobody' -d '{}'
assert_eq "$(status)" 401 "SSO for a user we do not have"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND json_extract(detail, '\$.reason') = 'untrusted_proxy'" e=auth.login_failed)" 1 "untrusted proxy recorded"
ok "single sign-on only from the configured proxy"

s r POST /api/v1/session/certificate "${J[@]}" --cert "$ca/taro.pem" --key "$ca/taro.key" -d '{}'
assert_eq "$(status) $(json 'j["method"]') $(json 'j["user"]["name"]')" "200 certificate taro" "certificate login"
s r GET /api/v1/transfers
assert_eq "$(status)" 200 "the certificate's session works"
s q POST /api/v1/session/certificate "${J[@]}" --cert "$ca/fake.pem" --key "$ca/fake.key" -d '{}'
assert_eq "$(status)" 401 "the same subject from another CA"
s q POST /api/v1/session/certificate "${J[@]}" -d '{}'
assert_eq "$(status)" 401 "no certificate"
assert_eq "$(q "SELECT count(*) FROM audit WHERE event = :e AND json_extract(detail, '\$.reason') = 'untrusted_certificate'" e=auth.login_failed)" 1 "untrusted certificate recorded"
"$OKURUCTL" -c "$CONF" user cert taro --clear >/dev/null
s r GET /api/v1/transfers
assert_eq "$(status)" 401 "unmapping the certificate ends its sessions"
s q POST /api/v1/session/certificate "${J[@]}" --cert "$ca/taro.pem" --key "$ca/taro.key" -d '{}'
assert_eq "$(status)" 401 "a certificate no user is mapped to"
ok "client certificates: verified against auth.client_ca, mapped by subject"
okuru_stop

# ---- the per-address limit
conf_set auth login_per_minute 5
okuru_start_faked
for i in 1 2 3 4 5; do login z nobody x; done
assert_eq "$(status)" 401 "five attempts in a minute"
login z taro 'correct horse battery'
assert_eq "$(status) $(json 'j["error"]')" "429 too many login attempts from this address: wait a minute" "the sixth"
at $((T2 + 60))
login z nobody x
assert_eq "$(status)" 401 "the next minute"
okuru_stop
ok "login attempts per address and minute are bounded"
