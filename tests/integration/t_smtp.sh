#!/bin/bash
# t_smtp.sh - mail leaves okuru only over verified TLS: `okuructl mail test`
# against a real SMTP server (smtpd.py) with STARTTLS, implicit TLS, AUTH,
# and the failures that must send nothing: no STARTTLS, an untrusted
# certificate, a certificate for another name, a wrong password. A refused
# recipient is reported with the server's reason; exit status 0/1/2.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init --mail-from okuru@bank.example
conf_set smtp from_name '"okuru 送信サービス"'
to=customer@client.example

mailtest() { # ADDR - okuructl mail test; output in $T/out, $T/err, status in $T/rc
	set +e
	"$OKURUCTL" -c "$CONF" mail test "$1" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
	set -e
}
rc() { cat "$T/rc"; }
err() { cat "$T/err"; }

# Not configured yet: a configuration error, exit 2.
mailtest "$to"
assert_eq "$(rc)" 2 "exit status without smtp.url"
assert_contains "$(err)" "mail is not configured (smtp.url)" "message without smtp.url"
ok "no smtp.url: exit 2, says so"

# STARTTLS: sent, over TLS, a readable bilingual message.
smtp_start starttls
mailtest "$to"
assert_eq "$(rc)" 0 "exit status with STARTTLS: $(err)"
assert_contains "$(cat "$T/out")" "sent to $to over TLS1." "success line"
assert_contains "$(cat "$T/out")" "(250)" "reply code in the success line"
mail_wait 1
eml=$(mail_to "$to")
assert_eq "$(mail_meta "$eml" 'j["tls_version"] in ("TLSv1.2", "TLSv1.3")')" True "TLS recorded by the server"
assert_eq "$(mail_meta "$eml" 'j["mail_from"]')" okuru@bank.example "envelope sender"
assert_eq "$(mail_meta "$eml" 'j["rcpt_tos"]')" "['$to']" "envelope recipient"
assert_eq "$(mail_subject "$eml")" "【テスト】okuru メール送信テスト / okuru test message" "decoded subject"
grep -q '^Subject: =?UTF-8?B?' "$eml" || fail "the subject is not RFC 2047 encoded"
assert_eq "$(mail_header "$eml" From)" "okuru 送信サービス <okuru@bank.example>" "From with display name"
assert_eq "$(mail_header "$eml" To)" "$to" "To"
assert_eq "$(mail_header "$eml" Auto-Submitted)" auto-generated "Auto-Submitted"
grep -Eq '^Message-ID: <[0-9a-f]{32}@bank\.example>' "$eml" || fail "Message-ID: $(grep -i '^Message-ID' "$eml")"
grep -Eq '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000' "$eml" ||
	fail "Date: $(grep '^Date' "$eml")"
text=$(mail_text "$eml")
assert_contains "$text" "okuru からのテストメールです。" "Japanese text part"
assert_contains "$text" "This is a test message from okuru." "English text part"
html=$(mail_html "$eml")
assert_contains "$html" '<html lang="ja">' "HTML part"
assert_contains "$html" '<p lang="en">This is a test message from okuru.' "HTML part content"
assert_contains "$html" "<td style=\"padding:8px 0;\">$(date -u +%Y-%m-%d)T" "date filled in the HTML part"
parts=$($PY -c '
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print(" ".join(p.get_content_type() for p in m.walk()))' "$eml")
assert_eq "$parts" "multipart/mixed multipart/alternative text/plain text/html" "MIME structure"
if grep -q 'passw' "$eml"; then fail "the test message mentions a password"; fi
ok "STARTTLS: sent over $(mail_meta "$eml" 'j["tls_version"]'), subject, From, text and HTML parts"

# Implicit TLS (smtps://).
smtp_start implicit
mailtest "$to"
assert_eq "$(rc)" 0 "exit status with implicit TLS: $(err)"
mail_wait 1
eml=$(mail_to "$to")
assert_eq "$(mail_meta "$eml" 'j["tls_version"] in ("TLSv1.2", "TLSv1.3")')" True "implicit TLS recorded"
ok "implicit TLS: sent"

# No STARTTLS: nothing may go out in clear text.
smtp_start plain
mailtest "$to"
assert_eq "$(rc)" 1 "exit status without STARTTLS"
assert_contains "$(err)" "not sent: the mail server does not offer STARTTLS" "message without STARTTLS"
sleep 0.3
assert_eq "$(mail_count)" 0 "messages received without STARTTLS"
ok "server without STARTTLS: exit 1, nothing sent"

# A certificate no configured CA vouches for.
smtp_start starttls --cert "$T/ca/untrusted.pem" --key "$T/ca/untrusted.key"
mailtest "$to"
assert_eq "$(rc)" 1 "exit status with an untrusted certificate"
assert_contains "$(err)" "certificate is not trusted" "message for an untrusted certificate"
sleep 0.3
assert_eq "$(mail_count)" 0 "messages received with an untrusted certificate"
ok "untrusted certificate: exit 1, nothing sent ($(err))"

# Same with implicit TLS.
smtp_start implicit --cert "$T/ca/untrusted.pem" --key "$T/ca/untrusted.key"
mailtest "$to"
assert_eq "$(rc)" 1 "exit status with an untrusted certificate (smtps)"
assert_contains "$(err)" "certificate" "message for an untrusted certificate (smtps)"
assert_eq "$(mail_count)" 0 "messages received with an untrusted certificate (smtps)"
ok "untrusted certificate over smtps: exit 1, nothing sent"

# Trusted CA, wrong host name.
smtp_start starttls --cert "$T/ca/wrongname.pem" --key "$T/ca/wrongname.key"
mailtest "$to"
assert_eq "$(rc)" 1 "exit status with a certificate for another name"
assert_contains "$(err)" "not for its name" "message for a certificate for another name"
sleep 0.3
assert_eq "$(mail_count)" 0 "messages received with a certificate for another name"
ok "certificate for another name: exit 1, nothing sent ($(err))"

# The system store does not know the test CA either.
smtp_start starttls
conf_set smtp ca_file '""'
mailtest "$to"
assert_eq "$(rc)" 1 "exit status with the system CA store"
assert_contains "$(err)" "certificate is not trusted" "message with the system CA store"
assert_eq "$(mail_count)" 0 "messages received with the system CA store"
ok "test CA not in the system store: exit 1, nothing sent"

# AUTH: the right password from a 0600 file is accepted...
smtp_start starttls --auth 'okuru-relay:s3cret pass!'
printf 's3cret pass!\n' >"$DATA/smtp.password"
chmod 600 "$DATA/smtp.password"
conf_set smtp username '"okuru-relay"'
conf_set smtp password_file "\"$DATA/smtp.password\""
mailtest "$to"
assert_eq "$(rc)" 0 "exit status with AUTH: $(err)"
mail_wait 1
ok "AUTH with the right password: sent"

# ... a readable password file is refused before anything is sent ...
chmod 644 "$DATA/smtp.password"
mailtest "$to"
assert_eq "$(rc)" 2 "exit status with a 0644 password file"
assert_contains "$(err)" "must be 0600 or 0400" "message for a 0644 password file"
chmod 400 "$DATA/smtp.password"
mailtest "$to"
assert_eq "$(rc)" 0 "exit status with a 0400 password file: $(err)"
mail_wait 2
ok "password file must be 0600 or 0400"

# ... and a wrong password sends nothing.
chmod 600 "$DATA/smtp.password"
printf 'wrong\n' >"$DATA/smtp.password"
smtp_start starttls --auth 'okuru-relay:s3cret pass!'
mailtest "$to"
assert_eq "$(rc)" 1 "exit status with a wrong password"
assert_contains "$(err)" "refused the login" "message for a wrong password"
assert_contains "$(err)" "535" "reply code for a wrong password"
sleep 0.3
assert_eq "$(mail_count)" 0 "messages received with a wrong password"
ok "AUTH with a wrong password: exit 1, nothing sent ($(err))"
conf_set smtp username '""'
conf_set smtp password_file '""'

# A recipient the server refuses for good: the server's reason is shown.
smtp_start starttls --reject-rcpt nobody@
mailtest nobody@client.example
assert_eq "$(rc)" 1 "exit status for a refused recipient"
assert_contains "$(err)" "refused the recipient (550 5.1.1 <nobody@client.example>: recipient rejected" "message for a refused recipient"
assert_eq "$(mail_count)" 0 "messages received for a refused recipient"
mailtest "$to"
assert_eq "$(rc)" 0 "another recipient on the same server: $(err)"
ok "refused recipient: exit 1 with the 550 reason"

# Usage errors.
mailtest 'bad address'
assert_eq "$(rc)" 2 "exit status for a bad address"
set +e
"$OKURUCTL" -c "$CONF" mail send "$to" >/dev/null 2>&1
assert_eq "$?" 2 "exit status for an unknown mail subcommand"
set -e
ok "usage errors: exit 2"

# Nothing listening: a clear connection error.
port=$SMTP_PORT
smtp_stop
conf_set smtp url "\"smtp://localhost:$port\""
mailtest "$to"
assert_eq "$(rc)" 1 "exit status with no server"
assert_contains "$(err)" "cannot connect to the mail server" "message with no server"
ok "no server: exit 1, cannot connect"
