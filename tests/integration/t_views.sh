#!/bin/bash
# t_views.sh - the read endpoints of the staff web UI against the real
# okurud: GET /api/v1/transfers (paging, state filter, only one's own),
# GET /api/v1/admin/status (scanner, policy in force against the file on
# disk, mail), GET /api/v1/audit/export (the same bytes as okuructl audit
# export), GET /api/v1/audit/verify (ok, then a tampered record named), and
# a send's dry run (the decision, nothing changed, nothing recorded).
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

okuru_init
smtp_start starttls
policy_use <<'PEOF'
version = 1;
defaults = { expiry_days = 7; max_expiry_days = 30; download_limit = 5;
             verification = "email-otp"; retention_days = 30; };
rules = (
  { id = "no-webmail"; match = { recipient_domains = [ "webmail.example" ]; };
    deny = "Webmail is not allowed"; },
  { id = "partner-approval"; match = { recipient_domains = [ "partner.example" ]; };
    approval = { group = "compliance"; count = 1; self = false; expire_hours = 24; }; },
  { id = "slow"; match = { recipient_domains = [ "slow.example" ]; }; delay_minutes = 10; }
);
PEOF
cp "$T/test.policy" "$T/test.policy.orig"
tok=$(okuru_user alice sender)
ctok=$(okuru_user carol sender)
atok=$(okuru_user root admin)
utok=$(okuru_user audrey auditor)
"$OKURUCTL" -c "$CONF" user add pat --email pat@bank.example --role approver \
	--group compliance >/dev/null || fail "approver"
# Enough records that the export and the verification read several batches.
for _ in $(seq 1 600); do "$OKURUCTL" -c "$CONF" user token carol >/dev/null; done
okuru_start
DB="$DATA/okuru.db"

# ---- GET /api/v1/transfers ----------------------------------------------
t1=$(new_transfer "$tok")
head -c 70000 /dev/urandom >"$T/a.bin"
fid=$(upload_clean "$tok" "$t1" "a.bin" "$T/a.bin")
api "$tok" POST "/api/v1/transfers/$t1/send" -H 'Content-Type: application/json' \
	-d '{"recipients":["bob@client.example"]}' >/dev/null
assert_eq "$(status)" 200 "send"
for _ in 1 2 3 4; do new_transfer "$tok" >/dev/null; done
ctid=$(new_transfer "$ctok")
uid=$(sqlq "$DB" "SELECT id FROM users WHERE name = :n" n=alice)
want=$(sqlq "$DB" "SELECT id FROM transfers WHERE owner_id = :u ORDER BY created DESC, id DESC" u="$uid")

# Every page of two, following "next", gives all five newest first, once each.
got="" cursor="" pages=0
while :; do
	api "$tok" GET "/api/v1/transfers?limit=2${cursor:+&before=$cursor}" >/dev/null
	assert_eq "$(status)" 200 "page $pages"
	n=$(json 'len(j["transfers"])')
	[ "$n" -le 2 ] || fail "a page of $n with limit 2"
	got="$got$(json '"".join(t["id"] + "\n" for t in j["transfers"])')"$'\n'
	pages=$((pages + 1))
	cursor=$(json 'j["next"] or ""')
	[ -n "$cursor" ] || break
	[ "$pages" -lt 10 ] || fail "paging does not end"
done
assert_eq "$pages" 3 "pages of 2 for 5 transfers"
assert_eq "$(printf '%s' "$got" | grep .)" "$want" "all pages, newest first"
case $got in *"$ctid"*) fail "another user's transfer listed" ;; esac
api "$ctok" GET /api/v1/transfers >/dev/null
assert_eq "$(json '[t["id"] for t in j["transfers"]]')" "['$ctid']" "carol sees only hers"
api "$atok" GET /api/v1/transfers >/dev/null
assert_eq "$(status) $(json 'len(j["transfers"])')" "200 0" "an admin's own transfers: none"
ok "transfers list pages newest first and shows only the caller's"

api "$tok" GET "/api/v1/transfers?state=sent" >/dev/null
assert_eq "$(json '[t["id"] for t in j["transfers"]]')" "['$t1']" "state=sent"
assert_eq "$(json '(t:=j["transfers"][0]) and (t["file_count"], t["total_bytes"], t["files"][0]["name"], t["files"][0]["size"], t["files"][0]["scan"]["verdict"])')" \
	"(1, 70000, 'a.bin', 70000, 'clean')" "the sent transfer's files"
assert_eq "$(json '(r:=j["transfers"][0]["recipients"][0]) and (r["address"], r["link"], r["mail"] in ("queued", "sent"), r["verified"], r["downloads"], r["completed"])')" \
	"('bob@client.example', 'active', True, None, 0, None)" "the recipient summary"
api "$tok" GET "/api/v1/transfers?state=draft&limit=200" >/dev/null
assert_eq "$(json '(len(j["transfers"]), {t["state"] for t in j["transfers"]}, j["next"])')" \
	"(4, {'draft'}, None)" "state=draft"
api "$tok" GET "/api/v1/transfers?state=revoked" >/dev/null
assert_eq "$(status) $(json 'len(j["transfers"])')" "200 0" "state=revoked: none"
for q in "limit=0" "limit=201" "limit=x" "before=zzz" "before=x.$t1" "before=$t1" "state=bogus" \
	"foo=1" "limit=2&limit=3"; do
	api "$tok" GET "/api/v1/transfers?$q" >/dev/null
	assert_eq "$(status)" 400 "bad parameter $q"
done
api "$tok" GET "/api/v1/transfers?state=bogus" >/dev/null
assert_contains "$(json 'j["error"]')" "parameter state" "the 400 names the parameter"
api "$tok" GET "/api/v1/transfers?limit=0" >/dev/null
assert_contains "$(json 'j["error"]')" "parameter limit" "the 400 names limit"
ok "state filter, item contents, and 400 for bad parameters"

# ---- GET /api/v1/admin/status -------------------------------------------
for t in "$tok" "$utok"; do
	api "$t" GET /api/v1/admin/status >/dev/null
	assert_eq "$(status)" 403 "admin status for a non-admin"
done
api "$atok" GET /api/v1/admin/status >/dev/null
assert_eq "$(status)" 200 "admin status"
assert_eq "$(json 'j["okurud"]["version"] != "" and j["okurud"]["started"] is not None')" True "okurud"
assert_eq "$(json '(s:=j["scanner"]) and (s["status"], s["workers_up"] >= 1, s["queue"], "okuru-test.ndb@" in s["database_version"], s["database"], s["database_date"])')" \
	"('ok', True, 0, True, 'test', 'unavailable')" "scanner"
assert_eq "$(json '(p:=j["policy"]) and (p["file"], p["content"]["defaults"]["expiry_days"], [r["id"] for r in p["content"]["rules"]], p["content"]["rules"][1]["approval"]["group"], p["on_disk"]["valid"], p["on_disk"]["matches_loaded"])')" \
	"('$T/test.policy', 7, ['no-webmail', 'partner-approval', 'slow'], 'compliance', True, True)" "policy in force"
assert_eq "$(json 'j["policy"]["on_disk"]["summary"]')" "$("$OKURUCTL" policy check "$T/test.policy")" \
	"the check is okuructl policy check's"
assert_eq "$(json '(m:=j["mail"]) and (m["configured"], m["outbox"]["queued"] + m["outbox"]["sent"] >= 1, m["outbox"]["failed"])')" \
	"(True, True, 0)" "mail"
sed -i 's/expiry_days = 7;/expiry_days = 8;/' "$T/test.policy"
api "$atok" GET /api/v1/admin/status >/dev/null
assert_eq "$(json '(p:=j["policy"]) and (p["content"]["defaults"]["expiry_days"], p["on_disk"]["valid"], p["on_disk"]["matches_loaded"])')" \
	"(7, True, False)" "a changed file on disk"
echo 'rules = oops' >>"$T/test.policy"
api "$atok" GET /api/v1/admin/status >/dev/null
assert_eq "$(json '(p:=j["policy"]["on_disk"]) and (p["valid"], p["matches_loaded"], p["error"].startswith("'"$T"'/test.policy:"))')" \
	"(False, False, True)" "a broken file on disk"
cp "$T/test.policy.orig" "$T/test.policy"
ok "admin status shows the scanner, the policy in force against the file on disk, and mail"

# ---- GET /api/v1/audit/export ---------------------------------------------
for t in "$tok" "$atok"; do
	api "$t" GET "/api/v1/audit/export?format=csv" >/dev/null
	assert_eq "$(status)" 403 "export for a non-auditor"
	api "$t" GET /api/v1/audit/verify >/dev/null
	assert_eq "$(status)" 403 "verify for a non-auditor"
done
for q in "" "format=xml" "format=csv&from=yesterday" "format=csv&limit=5" \
	"format=csv&event=transfer" "format=csv&from=2000&to=1000" "format=csv&format=jsonl" \
	"format=csv&actor=alice&actor=bob" "format=csv&bogus=1"; do
	api "$utok" GET "/api/v1/audit/export?$q" >/dev/null
	assert_eq "$(status)" 400 "bad export $q"
done
mail_wait 1
sleep 1.2
to=$(date +%s)
sleep 1.1 # records from now on fall outside [.., to)
exp() { # QUERY OUT [ctl args...] - the API's export into OUT, okuructl's into OUT.ctl
	local q=$1 out=$2
	shift 2
	curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $utok" -D "$out.hdr" \
		-o "$out" -w '%{http_code}' "$URL/api/v1/audit/export?$q" >"$T/status"
	"$OKURUCTL" -c "$CONF" audit export "$@" >"$out.ctl"
}
exp "format=csv&to=$to" "$T/all.csv" --format csv --to "$to"
assert_eq "$(status)" 200 "export csv"
cmp "$T/all.csv" "$T/all.csv.ctl" || fail "the API's CSV differs from okuructl's"
assert_contains "$(cat "$T/all.csv.hdr")" "attachment; filename=\"okuru-audit-start-$(date -u -d "@$to" +%Y%m%dT%H%M%SZ).csv\"" "file name"
n=$(sqlq "$DB" "SELECT count(*) FROM audit WHERE at < :t" t="$to")
assert_eq "$($PY - "$T/all.csv" <<'PYEOF'
import csv, sys
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    rows = list(csv.reader(f))
assert rows[0] == "seq,at,actor_kind,actor,ip,user_agent,event,object_kind,object_id,outcome,detail,hash".split(","), rows[0]
seqs = [int(r[0]) for r in rows[1:]]
assert seqs == sorted(seqs) and all(len(r) == 12 for r in rows)
print(len(rows) - 1)
PYEOF
)" "$n" "CSV rows parsed by csv"
[ "$n" -gt 600 ] || fail "too few records to cross a batch ($n)"
from=$(sqlq "$DB" "SELECT at FROM audit WHERE seq = 3")
exp "format=jsonl&event=transfer.*&from=$from&to=$to" "$T/t.jsonl" --format jsonl --event 'transfer.*' \
	--from "$from" --to "$to"
assert_eq "$(status)" 200 "export jsonl"
cmp "$T/t.jsonl" "$T/t.jsonl.ctl" || fail "the API's JSONL differs from okuructl's"
assert_eq "$($PY -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(len(r) > 0 and all(x["event"].startswith("transfer.") for x in r))' "$T/t.jsonl")" \
	True "JSONL holds the filtered events"
assert_contains "$(cat "$T/t.jsonl.hdr")" ".jsonl\"" "JSONL file name"
# A filter okuructl has no option for (actor): the records the database holds for it.
api "$utok" GET "/api/v1/audit/export?format=jsonl&actor=alice&to=$to" >/dev/null
assert_eq "$(status)" 200 "export by actor"
assert_eq "$($PY -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(len(r), {x["actor"] for x in r})' "$T/body")" \
	"$(sqlq "$DB" "SELECT count(*) FROM audit WHERE actor = 'alice' AND at < :t" t="$to") {'alice'}" \
	"export by actor"
ok "audit export streams the same bytes as okuructl audit export"

# ---- dry run ------------------------------------------------------------
t2=$(new_transfer "$tok")
head -c 5000 /dev/urandom >"$T/b.bin"
upload_clean "$tok" "$t2" "b.bin" "$T/b.bin" >/dev/null
before_a=$(sqlq "$DB" "SELECT count(*) FROM audit")
before_o=$(sqlq "$DB" "SELECT count(*) FROM outbox")
dry() { # RECIPIENT - a dry run to it
	api "$tok" POST "/api/v1/transfers/$t2/send" -H 'Content-Type: application/json' \
		-d "{\"recipients\":[\"$1\"],\"dry_run\":true}" >/dev/null
	assert_eq "$(status)" 200 "dry run to $1"
}
dry bob@client.example
assert_eq "$(json '(j["dry_run"], j["outcome"], j["rules"]["deny"], j["release"] is not None, j["approvals_needed"], j["policy"]["outcome"])')" \
	"(True, 'allow', 'default', True, 0, 'send')" "dry run: allow"
dry x@webmail.example
assert_eq "$(json '(j["outcome"], j["rules"]["deny"], j["message"], j["release"])')" \
	"('deny', 'no-webmail', 'Webmail is not allowed', None)" "dry run: deny"
dry x@partner.example
assert_eq "$(json '(j["outcome"], j["rules"]["approval"], j["approvals_needed"], j["approval_group"])')" \
	"('approve', 'partner-approval', 1, 'compliance')" "dry run: approve"
dry x@slow.example
assert_eq "$(json '(j["outcome"], j["rules"]["delay"])')" "('delay', 'slow')" "dry run: delay"
assert_eq "$($PY -c 'import json,sys,calendar,time; j=json.load(open(sys.argv[1])); print(calendar.timegm(time.strptime(j["release"], "%Y-%m-%dT%H:%M:%SZ")) - int(sys.argv[2]) >= 590)' "$T/body" "$(date +%s)")" \
	True "the release is after the delay"
api "$tok" POST "/api/v1/transfers/$t2/send" -H 'Content-Type: application/json' \
	-d '{"recipients":["bob@client.example"],"dry_run":"yes"}' >/dev/null
assert_eq "$(status)" 400 "dry_run must be a boolean"
api "$tok" GET "/api/v1/transfers/$t2" >/dev/null
assert_eq "$(json '(j["state"], j["recipients"])')" "('draft', [])" "still a draft after dry runs"
assert_eq "$(sqlq "$DB" "SELECT count(*) FROM audit")" "$before_a" "no audit record for a dry run"
assert_eq "$(sqlq "$DB" "SELECT count(*) FROM outbox")" "$before_o" "no mail for a dry run"
ok "a dry run answers the decision and changes nothing"

# ---- GET /api/v1/audit/verify --------------------------------------------
api "$utok" GET "/api/v1/audit/verify?x=1" >/dev/null
assert_eq "$(status)" 400 "verify with a parameter"
api "$utok" GET /api/v1/audit/verify >/dev/null
assert_eq "$(status)" 200 "verify"
n=$(sqlq "$DB" "SELECT count(*) FROM audit")
assert_eq "$(json '(j["ok"], j["records"] >= '"$n"', j["first_seq"], j["problems"])')" "(True, True, 1, [])" "verify ok"
okuru_stop
seq_t=$(sqlq "$DB" "SELECT seq FROM audit WHERE event = 'transfer.created' ORDER BY seq LIMIT 1")
sqlq "$DB" "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = :s" s="$seq_t"
okuru_start
api "$utok" GET /api/v1/audit/verify >/dev/null
assert_eq "$(status)" 200 "verify of a tampered log"
assert_eq "$(json '(j["ok"], j["problems"])')" \
	"(False, ['record $seq_t: hash does not match its contents'])" "the tampered record is named"
set +e
ctl=$("$OKURUCTL" -c "$CONF" audit verify)
set -e
assert_eq "$ctl" "record $seq_t: hash does not match its contents" "okuructl audit verify agrees"
ok "audit verify reports ok, then names the tampered record"
okuru_stop
