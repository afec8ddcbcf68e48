# mailcatch.sh - a real SMTP server for integration tests (smtpd.py) and
# helpers to read what it received. Source it after lib.sh (it uses $T, $PY,
# $LIBDIR, $SCRIPTS, conf_set, fail and EXTRA_PIDS).
#
#   smtp_start [MODE] [smtpd.py args...]
#       MODE starttls (default), implicit or plain. Makes the test CA once in
#       $T/ca (scripts/testca.sh), empties the mailbox $T/mail, starts
#       smtpd.py on a free port with $T/ca/server.pem (later --cert/--key
#       arguments win, e.g. $T/ca/untrusted.pem), waits until it listens and
#       points okuru.conf at it: smtp.url (smtp://localhost:PORT, smtps://
#       for implicit), smtp.ca_file ($T/ca/ca.pem), smtp.from
#       ($SMTP_FROM, default okuru@bank.example) and templates (the source
#       tree's templates/). Sets SMTP_PORT and SMTP_PID. A running server is
#       stopped first.
#   smtp_stop              SIGTERM the server and wait for it
#   mail_count             how many messages the server accepted
#   mail_wait N [SECS]     wait (default 10 s) until at least N arrived, or fail
#   mail_to ADDR           path of the newest .eml with ADDR among its recipients
#   mail_meta FILE EXPR    EXPR on the FILE's .json (as j): mail_from,
#                          rcpt_tos, tls_version, cipher, peer
#   mail_text FILE         the decoded text/plain part (LF line ends)
#   mail_html FILE         the decoded text/html part
#   mail_subject FILE      the decoded Subject
#   mail_header FILE NAME  any decoded header, e.g. From
#   mail_link FILE         the first https:// URL in the text part
#   mail_code FILE         the one-time code in the text part: the first line
#                          that is only 6 to 8 digits (blanks around them
#                          ignored), else the first 6 to 8 digits that follow
#                          "code" or "コード" on one line, separated by
#                          nothing but blanks and colons. The otp template
#                          puts the code on a line of its own.

SMTP_PID=""
SMTP_PORT=""
SMTP_FROM=${SMTP_FROM:-okuru@bank.example}
MAILDIR="$T/mail"

smtp_start() {
	local mode=${1:-starttls} scheme=smtp
	[ $# -gt 0 ] && shift
	[ -n "$SMTP_PID" ] && smtp_stop
	[ -f "$T/ca/ca.pem" ] || sh "$SCRIPTS/testca.sh" "$T/ca" || fail "testca.sh failed"
	rm -rf "$MAILDIR" "$T/smtpd.ready"
	mkdir -p "$MAILDIR"
	/usr/bin/python3 "$LIBDIR/smtpd.py" --host 127.0.0.1 --port 0 --mode "$mode" \
		--cert "$T/ca/server.pem" --key "$T/ca/server.key" --maildir "$MAILDIR" \
		--ready-file "$T/smtpd.ready" "$@" >>"$T/smtpd.log" 2>&1 &
	SMTP_PID=$!
	EXTRA_PIDS="$EXTRA_PIDS $SMTP_PID"
	for _ in $(seq 1 100); do
		[ -s "$T/smtpd.ready" ] && break
		kill -0 "$SMTP_PID" 2>/dev/null || { cat "$T/smtpd.log" >&2; fail "smtpd.py exited"; }
		sleep 0.1
	done
	[ -s "$T/smtpd.ready" ] || fail "smtpd.py did not start listening"
	SMTP_PORT=$(cat "$T/smtpd.ready")
	[ "$mode" = implicit ] && scheme=smtps
	conf_set smtp url "\"$scheme://localhost:$SMTP_PORT\""
	conf_set smtp ca_file "\"$T/ca/ca.pem\""
	conf_set smtp from "\"$SMTP_FROM\""
	conf_set - templates "\"$(cd "$LIBDIR/../../templates" && pwd)\""
}

smtp_stop() {
	[ -n "$SMTP_PID" ] || return 0
	kill -TERM "$SMTP_PID" 2>/dev/null || true
	wait "$SMTP_PID" 2>/dev/null || true
	EXTRA_PIDS=$(echo "$EXTRA_PIDS" | tr ' ' '\n' | grep -vx "$SMTP_PID" | tr '\n' ' ' || true)
	SMTP_PID=""
}

mail_count() {
	find "$MAILDIR" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l | tr -d ' '
}

mail_wait() {
	local n=$1 ticks=$((${2:-10} * 10))
	for _ in $(seq 1 "$ticks"); do
		[ "$(mail_count)" -ge "$n" ] && return 0
		sleep 0.1
	done
	fail "expected $n message(s) within ${2:-10} s, got $(mail_count)"
}

mail_to() {
	$PY -c '
import glob, json, sys
maildir, addr = sys.argv[1:]
for meta in sorted(glob.glob(maildir + "/*.json"), reverse=True):
    if addr in json.load(open(meta))["rcpt_tos"]:
        print(meta[:-5] + ".eml")
        sys.exit(0)
sys.exit(1)
' "$MAILDIR" "$1" || fail "no message to $1"
}

mail_meta() {
	$PY -c '
import json, sys
j = json.load(open(sys.argv[1][:-4] + ".json"))
print(eval(sys.argv[2]))
' "$1" "$2"
}

# _mc_mail FILE EXPR - EXPR on the parsed message (as m, policy=default)
_mc_mail() {
	$PY -c '
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
def body(kind):
    p = m.get_body(preferencelist=(kind,))
    if p is None:
        sys.exit("no text/%s part" % kind)
    return p.get_content().replace("\r\n", "\n")
def code(text):
    for line in text.split("\n"):
        if re.fullmatch(r"\s*\d{6,8}\s*", line):
            return line.strip()
    found = re.search(r"(?i)(?:code|コード)[ \t:：]*(\d{6,8})(?!\d)", text)
    if found is None:
        sys.exit("no code in the text part")
    return found.group(1)
def link(text):
    found = re.search(r"https://[^\s<>\"]+", text)
    if found is None:
        sys.exit("no https:// link in the text part")
    return found.group(0)
sys.stdout.write(str(eval(sys.argv[2])))
' "$1" "$2"
}

mail_text() { _mc_mail "$1" 'body("plain")'; }
mail_html() { _mc_mail "$1" 'body("html")'; }
mail_subject() { _mc_mail "$1" 'm["subject"]'; }
mail_header() { _mc_mail "$1" "m[\"$2\"]"; }
mail_link() { _mc_mail "$1" 'link(body("plain"))'; }
mail_code() { _mc_mail "$1" 'code(body("plain"))'; }
