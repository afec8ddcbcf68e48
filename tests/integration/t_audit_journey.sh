#!/bin/bash
# t_audit_journey.sh - one transfer's whole life, send → one-time code →
# download → purge, leaves exactly the expected audit records, in order,
# with the right actors, addresses and details; the auditor reads the same
# records through GET /api/v1/audit (filtered by the transfer and by the
# recipient), cannot download the file, and the log verifies. okurud runs
# under libfaketime (lib.sh okuru_start_faked) so the purge can be reached.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

faketime_available

okuru_init
smtp_start starttls
cat >"$T/journey.policy" <<'EOF'
version = 1;
defaults = {
  expiry_days = 1;
  max_expiry_days = 2;
  retention_days = 1;
  verification = "email-otp";
};
retention = {
  metadata_days = 3;
  audit_days = 3650;
};
EOF
conf_set - policy "\"$T/journey.policy\""
conf_set retention interval 1
alice=$(okuru_user alice sender)
audrey=$(okuru_user audrey auditor)
DB="$DATA/okuru.db"
clock +0
okuru_start_faked

sql() { sqlite3 "$DB" "$1"; }
# wait_event EVENT N - until the log has N records of EVENT (mail results come from a thread)
wait_event() {
	for _ in $(seq 1 200); do
		[ "$(sqlq "$DB" "SELECT count(*) FROM audit WHERE event = :e" e="$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "no $2 records of $1"
}
rcpt() { # METHOD URL [curl args] - bob's browser; body in $T/body
	local method=$1 url=$2
	shift 2
	curl -sS --cacert "$DATA/tls/cert.pem" -X "$method" -c "$T/jar" -b "$T/jar" \
		-H 'Accept: application/json' -H 'User-Agent: BobBrowser/1.0' \
		-o "$T/body" -w '%{http_code}' "$@" "$url" >"$T/status" || true
}
start=$(sql "SELECT max(seq) FROM audit")

# The journey.
head -c 120000 /dev/urandom >"$T/report.pdf"
tid=$(new_transfer "$alice")
fid=$(upload_clean "$alice" "$tid" 報告書.pdf "$T/report.pdf")
api "$alice" POST "/api/v1/transfers/$tid/send" -H 'Content-Type: application/json' \
	-d '{"recipients":["bob@client.example"]}' >/dev/null
assert_eq "$(status)" 200 "send: $(cat "$T/body")"
mail_wait 1
wait_event mail.delivered 1
link=$(mail_link "$(mail_to bob@client.example)")
rcpt GET "$link"
assert_eq "$(status)" 200 "link page"
rcpt POST "$link/code"
assert_eq "$(status)" 202 "code request"
mail_wait 2
wait_event mail.delivered 2
code=$(mail_code "$(mail_to bob@client.example)")
rcpt POST "$link/verify" -H 'Content-Type: application/json' -d "{\"code\":\"$code\"}"
assert_eq "$(status)" 200 "verify"
rcpt GET "$link/files/$fid"
assert_eq "$(status)" 200 "download"
assert_eq "$(sha "$T/body")" "$(sha "$T/report.pdf")" "downloaded bytes"
mail_wait 3
wait_event mail.delivered 3
api "$audrey" GET "/api/v1/transfers/$tid/files/$fid" >/dev/null
assert_eq "$(status)" 403 "the auditor cannot download the contents"
# Expiry after 1 day, content kept 1 more, metadata 3 after the end: move 5 days on.
clock +5d
wait_event purge.metadata 1
okuru_stop

# Exactly these records, in this order, after the users were added and okurud started.
q="SELECT event, actor_kind, actor, object_kind, outcome,
	ifnull(json_extract(detail, '\$.recipient'), '-') FROM audit
	WHERE seq > :start AND event NOT IN ('okurud.stopped', 'audit.checkpoint') ORDER BY seq"
got=$(SQLQ_SEP=' ' sqlq "$DB" "$q" start="$start")
expect="auth.token_used user alice token ok -
transfer.created user alice transfer ok -
file.uploaded user alice file ok -
file.scanned system okurud file clean -
policy.decided user alice transfer send -
transfer.sent user alice transfer ok -
link.created user alice link ok bob@client.example
mail.queued system okurud mail ok bob@client.example
mail.delivered system okurud mail ok bob@client.example
link.viewed recipient bob@client.example link ok bob@client.example
mail.queued system okurud mail ok bob@client.example
otp.requested recipient bob@client.example link ok bob@client.example
mail.delivered system okurud mail ok bob@client.example
otp.verified recipient bob@client.example link ok bob@client.example
file.downloaded recipient bob@client.example file ok bob@client.example
mail.queued system okurud mail ok alice@bank.example
mail.delivered system okurud mail ok alice@bank.example
auth.token_used user audrey token ok -
purge.content system okurud transfer ok -
purge.metadata system okurud transfer ok -"
if [ "$got" != "$expect" ]; then
	diff <(echo "$expect") <(echo "$got") >&2 || true
	fail "the journey's records differ from the expected ones (- expected, + got)"
fi
ok "send → code → download → purge: exactly the expected records, actors and recipients"

# What the records say.
d() { # EVENT PYEXPR - on the detail of the journey's last EVENT record, as d
	$PY - "$DB" "$start" "$1" "$2" <<'PYEOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
r = db.execute("SELECT detail, ip, user_agent FROM audit WHERE seq > ? AND event = ? ORDER BY seq DESC LIMIT 1",
               (int(sys.argv[2]), sys.argv[3])).fetchone()
d, ip, ua = json.loads(r[0]), r[1], r[2]
print(eval(sys.argv[4]))
PYEOF
}
assert_eq "$(d file.uploaded '(d["transfer"], d["name"], d["size"], d["sha256"])')" \
	"('$tid', '報告書.pdf', 120000, '$(sha "$T/report.pdf")')" "upload: name, size, SHA-256"
assert_eq "$(d file.scanned '(d["transfer"], d["db_version"] != "", ip)')" "('$tid', True, '')" \
	"scan: the signature version; no client address for the system"
assert_eq "$(d policy.decided 'd["outcome"], d["rules"]["verification"]')" "('send', 'default')" \
	"the policy decision and the rule that set verification"
assert_eq "$(d mail.delivered 'd["tls"].split()[0] in ("TLS1.2", "TLS1.3"), d["kind"]')" "(True, 'receipt')" \
	"the receipt delivered over TLS"
assert_eq "$(d file.downloaded '(d["transfer"], d["bytes"], d["complete"], ip, ua)')" \
	"('$tid', 120000, True, '127.0.0.1', 'BobBrowser/1.0')" "download: bytes, complete, address, browser"
assert_eq "$(d purge.content 'd["files"], d["bytes"]')" "(1, 120000)" "content purge: what went"
if sqlite3 "$DB" "SELECT detail FROM audit" | grep -qF "$code"; then fail "the one-time code is in the log"; fi
ok "the records carry name, size, hash, scan, rule, TLS, bytes and the client; no code"

# The auditor reads the same through the API; nobody else may.
okuru_start_faked
api "$audrey" GET "/api/v1/audit?transfer=$tid&limit=1000" >/dev/null
assert_eq "$(status)" 200 "auditor reads the log"
n=$(sqlq "$DB" "SELECT count(*) FROM audit WHERE object_id = :t OR json_extract(detail, '\$.transfer') = :t" t="$tid")
assert_eq "$(json 'len(j["records"])')" "$n" "the transfer's records through the API"
assert_eq "$(json 'j["records"][0]["event"], j["records"][-1]["event"]')" "transfer.created purge.metadata" \
	"first and last of the transfer"
api "$audrey" GET "/api/v1/audit?recipient=bob@client.example&event=otp.*" >/dev/null
assert_eq "$(json '[r["event"] for r in j["records"]]')" "['otp.requested', 'otp.verified']" "bob's code"
api "$alice" GET "/api/v1/audit" >/dev/null
assert_eq "$(status)" 403 "a sender cannot read the log"
okuru_stop
out=$("$OKURUCTL" -c "$CONF" audit verify) || fail "audit verify: $out"
ok "auditor reads the journey through the API; a sender cannot; the log verifies"
