#!/bin/bash
# t_init.sh - okuructl init creates a complete installation and refuses to
# overwrite one; okurud -t checks configurations; users get one-time tokens.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
for f in okuru.conf okuru.db master.key tls/cert.pem tls/key.pem storage/tmp storage/blobs/00 storage/blobs/ff; do
	[ -e "$DATA/$f" ] || fail "init did not create $f"
done
assert_eq "$(stat -c %a "$DATA/master.key")" 600 "master key mode"
assert_eq "$(stat -c %s "$DATA/master.key")" 32 "master key size"
assert_eq "$(stat -c %a "$DATA/tls/key.pem")" 600 "TLS key mode"
ok "init created the installation"

before=$(cd "$DATA" && find . -type f -exec sha256sum {} + | sort | sha256sum)
if "$OKURUCTL" init --data-dir "$DATA" --listen "127.0.0.1:$PORT" 2>"$T/err"; then
	fail "second init succeeded"
fi
assert_contains "$(cat "$T/err")" "refusing to overwrite" "second init message"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "error is not one line"
after=$(cd "$DATA" && find . -type f -exec sha256sum {} + | sort | sha256sum)
assert_eq "$after" "$before" "files after refused init"
ok "re-running init refuses and changes nothing"

"$OKURUD" -c "$CONF" -t >/dev/null || fail "okurud -t rejects a fresh config"
cp "$CONF" "$T/good.conf"
conf_set limits max_connections '"many"'
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "okurud -t accepted a bad type"; fi
line=$(grep -n "max_connections = " "$CONF" | cut -d: -f1)
assert_contains "$(cat "$T/err")" "okuru.conf:$line: limits.max_connections must be an integer" "bad type with line"
cp "$T/good.conf" "$CONF"
conf_set limits max_filesize 5
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "okurud -t accepted an unknown setting"; fi
line=$(grep -n max_filesize "$CONF" | cut -d: -f1)
assert_contains "$(cat "$T/err")" "okuru.conf:$line: unknown setting" "unknown setting with line"
cp "$T/good.conf" "$CONF"
printf 'listen = "127.0.0.1:8443"\n' >>"$CONF"
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "okurud -t accepted a syntax error"; fi
assert_contains "$(cat "$T/err")" "okuru.conf:" "syntax error names the file"
cp "$T/good.conf" "$CONF"
chmod 644 "$DATA/master.key"
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "okurud -t accepted a world-readable master key"; fi
assert_contains "$(cat "$T/err")" "mode 0600" "master key mode error"
chmod 600 "$DATA/master.key"
ok "okurud -t validates with file and line"

"$OKURUCTL" -c "$CONF" user add alice --email alice@bank.example --role sender >"$T/out"
tok=$(tail -n 1 "$T/out")
case "$tok" in okr_*) ;; *) fail "last line is not a token: $tok" ;; esac
if grep -rqF "$tok" "$DATA"; then fail "token stored in clear"; fi
secret=${tok#okr_*_}  # the id is hex; the secret may itself contain "_"
if grep -rqF "$secret" "$DATA"; then fail "token secret stored in clear"; fi
if "$OKURUCTL" -c "$CONF" user add alice --email a@bank.example --role sender 2>"$T/err"; then
	fail "duplicate user accepted"
fi
assert_contains "$(cat "$T/err")" "already exists" "duplicate user"
if "$OKURUCTL" -c "$CONF" user add bob --email bob@bank.example --role root 2>/dev/null; then
	fail "bad role accepted"
fi
if "$OKURUCTL" -c "$CONF" user add bob --email not-an-address --role sender 2>/dev/null; then
	fail "bad e-mail accepted"
fi
tok2=$("$OKURUCTL" -c "$CONF" user token alice | tail -n 1)
[ "$tok2" != "$tok" ] || fail "user token repeated a token"
okuru_start
api "$tok" POST /api/v1/transfers >/dev/null
assert_eq "$(status)" 201 "first token works"
api "$tok2" POST /api/v1/transfers >/dev/null
assert_eq "$(status)" 201 "second token works"
okuru_stop
ok "users and tokens"

# A size given as a string with a unit, and a garbled one.
conf_set limits max_file_size '"10G"'
"$OKURUD" -c "$CONF" -t >/dev/null || fail "\"10G\" refused"
conf_set limits max_file_size '"10Q"'
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "\"10Q\" accepted"; fi
assert_contains "$(cat "$T/err")" "byte count" "unit error"
cp "$T/good.conf" "$CONF"
ok "byte counts with units"

# -t checks the scanner's surroundings too.
conf_set scanner program '"/nonexistent/okuru-scanner"'
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "missing scanner program accepted"; fi
assert_contains "$(cat "$T/err")" "scanner.program /nonexistent/okuru-scanner" "scanner program error"
cp "$T/good.conf" "$CONF"
conf_set clamav database "\"$T/no-such-dir\""
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "missing signature directory accepted"; fi
assert_contains "$(cat "$T/err")" "clamav.database $T/no-such-dir" "signature directory error"
cp "$T/good.conf" "$CONF"
ok "okurud -t checks the scanner program and the signature directory"

# -t checks what sending needs: every mail template, and an owner-only SMTP password.
conf_set smtp url '"smtps://localhost:1"'
conf_set - templates "\"$T/no-templates\""
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "missing templates accepted"; fi
assert_contains "$(cat "$T/err")" "templates: $T/no-templates/link.txt" "template error"
cp "$T/good.conf" "$CONF"
conf_set smtp url '"smtps://localhost:1"'
printf 'secret\n' >"$T/smtp.pw"
chmod 644 "$T/smtp.pw"
conf_set smtp username '"okuru"'
conf_set smtp password_file "\"$T/smtp.pw\""
if "$OKURUD" -c "$CONF" -t 2>"$T/err"; then fail "world-readable SMTP password accepted"; fi
assert_contains "$(cat "$T/err")" "mode 0644" "password file mode error"
chmod 600 "$T/smtp.pw"
"$OKURUD" -c "$CONF" -t >/dev/null 2>&1 || fail "okurud -t rejects a good mail configuration"
cp "$T/good.conf" "$CONF"
ok "okurud -t checks the mail templates and the SMTP password file"

# Bad options are refused before anything is created.
if "$OKURUCTL" init --data-dir "$T/other" --listen nonsense 2>"$T/err"; then fail "bad --listen accepted"; fi
[ ! -e "$T/other/master.key" ] || fail "files created despite a bad --listen"
if "$OKURUCTL" init --data-dir "$T/other2" --public-url http://x 2>/dev/null; then fail "http public URL accepted"; fi
[ ! -e "$T/other2/master.key" ] || fail "files created despite a bad --public-url"
if "$OKURUCTL" init --data-dir "$T/other3" --public-url https://files.example.jp/ 2>/dev/null; then
	fail "public URL with a trailing slash accepted"
fi
[ ! -e "$T/other3/master.key" ] || fail "files created despite a trailing slash"
ok "init checks its options before creating anything"
