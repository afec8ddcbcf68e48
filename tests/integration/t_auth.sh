#!/bin/bash
# t_auth.sh - bearer tokens, ownership (another user's transfer is a 404),
# admin visibility, and JSON errors with the right status.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
alice=$(okuru_user alice sender)
bob=$(okuru_user bob sender)
root=$(okuru_user root admin)
audit=$(okuru_user audit auditor)
okuru_start
tid=$(new_transfer "$alice")
printf 'secret report' >"$T/f"
fid=$(upload_clean "$alice" "$tid" a.txt "$T/f")

curl -sS --cacert "$DATA/tls/cert.pem" -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
	"$URL/api/v1/transfers/$tid" >"$T/status"
assert_eq "$(status)" 401 "no token"
assert_contains "$(tr -d '\r' <"$T/hdr")" 'WWW-Authenticate: Bearer' "WWW-Authenticate"
assert_eq "$(json 'j["error"]')" "a valid API token or a login is required" "401 body"
api "garbage" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 401 "malformed token"
# Right shape, right id, wrong secret.
# (The id is 16 hex digits; the secret may itself contain "_".)
forged="okr_$(echo "$alice" | cut -d_ -f2)_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
api "$forged" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 401 "forged secret"
curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Basic YTpi" -o /dev/null -w '%{http_code}' \
	"$URL/api/v1/transfers/$tid" >"$T/status"
assert_eq "$(status)" 401 "Basic auth"
api "$alice" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 200 "owner"
assert_eq "$(sqlite3 -separator ' ' "$DATA/okuru.db" "SELECT json_extract(detail, '\$.reason'), object_id, ip FROM audit WHERE event = 'auth.failed' ORDER BY seq" | tr '\n' ';')" \
	"no_token  127.0.0.1;malformed  127.0.0.1;mismatch $(echo "$alice" | cut -d_ -f2) 127.0.0.1;no_token  127.0.0.1;" \
	"each refused token recorded with its reason and, when it parsed, its id"
assert_eq "$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'auth.token_used' AND actor = 'alice'")" 1 \
	"alice's token use recorded once, not per request"
ok "tokens: missing, malformed and forged are 401 and recorded"

api "$bob" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 404 "other user's transfer"
assert_eq "$(json 'j["error"]')" "no such transfer" "same answer as missing"
api "$bob" GET "/api/v1/transfers/$tid/files/$fid" >/dev/null
assert_eq "$(status)" 404 "other user's file"
api "$bob" PUT "/api/v1/transfers/$tid/files/b.txt" --data-binary "@$T/f" >/dev/null
assert_eq "$(status)" 404 "upload into another user's transfer"
api "$alice" GET "/api/v1/transfers/0123456789abcdef0123456789abcdef" >/dev/null
assert_eq "$(status)" 404 "unknown transfer"
api "$alice" GET "/api/v1/transfers/not-an-id" >/dev/null
assert_eq "$(status)" 404 "malformed transfer id"
api "$alice" GET "/api/v1/transfers/$tid/files/0123456789abcdef0123456789abcdef" >/dev/null
assert_eq "$(status)" 404 "unknown file"
api "$root" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 200 "admin sees any transfer"
api "$audit" POST /api/v1/transfers >/dev/null
assert_eq "$(status)" 403 "auditor cannot create"
ok "only the owner or an admin sees a transfer; auditors are read-only"

api "$alice" DELETE "/api/v1/transfers" >/dev/null
assert_eq "$(status)" 405 "wrong method"
api "$alice" GET "/api/v1/nothing" >/dev/null
assert_eq "$(status)" 404 "unknown path"
assert_eq "$(json 'j["error"]')" "not found" "404 body"
curl -sS --cacert "$DATA/tls/cert.pem" -X POST -o /dev/null -w '%{http_code}' "$URL/healthz" >"$T/status"
assert_eq "$(status)" 405 "POST /healthz"
ok "unknown paths and methods"

# Anyone can present a bad token: at most 60 such records a minute (each is a commit).
urls=$(for _ in $(seq 1 80); do printf '%s ' "$URL/api/v1/transfers"; done)
# shellcheck disable=SC2086
curl -s --cacert "$DATA/tls/cert.pem" $urls >/dev/null
assert_eq "$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM audit WHERE event = 'auth.failed'")" 60 \
	"auth.failed bounded to 60 a minute"
api "$alice" GET "/api/v1/transfers/$tid" >/dev/null
assert_eq "$(status)" 200 "the gateway still serves"
ok "a flood of bad tokens is bounded in the audit log"
okuru_stop
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
