#!/bin/bash
# t_purge.sh - retention with a clock the test moves: okurud runs under
# libfaketime (LD_PRELOAD, the offset read from $T/clock at every call), so
# writing "+4d" into the file moves okurud four days ahead; the monotonic
# clock is left alone, so the purger's timed wait, the watchdog and the
# scanner's timeouts are not disturbed. The purger runs every second
# (retention.interval = 1) under a policy written here: links last 1 day,
# content is kept 2 days after the end, records 10 days, a draft lives 4.
#
# The scanner worker inherits the environment, libfaketime included. It
# loads before the sandbox; inside it the clock file cannot be opened
# (measured with strace: openat is an allowed system call and Landlock
# answers EACCES; ~/.faketimerc and /etc/faketimerc do not exist either), so
# the worker sees the real time. It uses time only to name its temporary
# files and to measure a scan, so nothing changes: files uploaded after a
# move are scanned clean. okurud's environment handling is left as it is.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"
. "$LIBDIR/mailcatch.sh"

faketime_available

okuru_init
smtp_start starttls
cat >"$T/retention.policy" <<'EOF'
version = 1;
defaults = {
  expiry_days = 1;
  max_expiry_days = 4;
  retention_days = 2;
};
retention = {
  metadata_days = 10;
  audit_days = 10;
};
EOF
conf_set - policy "\"$T/retention.policy\""
conf_set retention interval 1
alice=$(okuru_user alice sender)
audrey=$(okuru_user audrey auditor)
adam=$(okuru_user adam admin)
DB="$DATA/okuru.db"

# wait_log PATTERN [SECS] - until the log has a line matching PATTERN
wait_log() {
	local ticks=$((${2:-20} * 10))
	for _ in $(seq 1 "$ticks"); do
		grep -qE "$1" "$LOG" && return 0
		sleep 0.1
	done
	fail "no log line matching '$1' within ${2:-20} s"
}

# runs_after_move - let the purger (every second) run at least twice at the new time
runs_after_move() { sleep 2.5; }

sql() { sqlite3 "$DB" "$1"; }
blob() { echo "$DATA/storage/blobs/${1:0:2}/$1"; }
plus() { # ISO SECONDS -> ISO
	$PY -c 'import sys, datetime as d
t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ") + d.timedelta(seconds=int(sys.argv[2]))
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1" "$2"
}
hold() { # TOKEN TID JSON [lift]
	api "$1" POST "/api/v1/transfers/$2/hold${4:+/lift}" -H 'Content-Type: application/json' \
		-d "$3" >/dev/null
}
dry() { "$OKURUCTL" -c "$CONF" purge --dry-run --at "$1"; }

clock +0
okuru_start_faked

# Two sent transfers (A, B) and a draft (D), one file each.
head -c 200000 /dev/urandom >"$T/a.bin"
head -c 150000 /dev/urandom >"$T/b.bin"
tA=$(new_transfer "$alice")
fA=$(upload_clean "$alice" "$tA" a.bin "$T/a.bin")
tB=$(new_transfer "$alice")
fB=$(upload_clean "$alice" "$tB" b.bin "$T/b.bin")
tD=$(new_transfer "$alice")
fD=$(upload_clean "$alice" "$tD" d.bin "$T/b.bin")
for t in "$tA" "$tB"; do
	api "$alice" POST "/api/v1/transfers/$t/send" -H 'Content-Type: application/json' \
		-d '{"recipients":["bob@client.example"],"expires_days":1}' >/dev/null
	assert_eq "$(status)" 200 "send $t: $(cat "$T/body")"
done
api "$alice" GET "/api/v1/transfers/$tA" >/dev/null
expA=$(json 'j["expires"]')
dueA=$(plus "$expA" $((2 * 86400)))
metaA=$(plus "$expA" $((10 * 86400)))
assert_eq "$(json 'j["retention"]["content_due"]')" "$dueA" "content_due in the JSON"
assert_eq "$(json 'j["retention"]["metadata_due"]')" "$metaA" "metadata_due in the JSON"
assert_eq "$(json 'j["retention"]["content_purged"]')" None "content_purged before"
assert_eq "$(json 'j["legal_hold"]')" None "no hold"
assert_eq "$(json 'j["holds"]')" "[]" "no hold history"
mail_wait 2
linkA=$(mail_link "$(mail_to bob@client.example)")
ok "sent transfers show when their content and records are due"

# The dry run: due exactly at expiry + retention, with the reason.
out=$(dry "$(plus "$dueA" -1)")
case $out in *"$tA"*) fail "listed a second early: $out" ;; esac
out=$(dry "$dueA")
assert_contains "$out" "content  $tA due $dueA: expired $expA + retention 2 days" \
	"dry run content line"
case $out in *"metadata $tA"*) fail "records listed before they are due: $out" ;; esac
assert_contains "$(dry "$metaA")" "metadata $tA due $metaA: expired $expA + metadata retention 10 days" \
	"dry run metadata line"
set +e
"$OKURUCTL" -c "$CONF" purge >/dev/null 2>"$T/err"
rc1=$?
"$OKURUCTL" -c "$CONF" purge --dry-run --at 2026-02-30T00:00:00Z >/dev/null 2>&1
rc2=$?
set -e
assert_eq "$rc1" 2 "purge without --dry-run"
assert_contains "$(cat "$T/err")" "okurud purges by itself" "purge without --dry-run says why"
assert_eq "$rc2" 2 "purge --at with a bad time"
ok "okuructl purge --dry-run lists content and records at their due time, and nothing earlier"

# Legal hold over the API: admins and auditors only; checked input.
hold "$alice" "$tB" '{"reason":"x"}'
assert_eq "$(status)" 403 "hold by a sender"
assert_contains "$(json 'j["error"]')" "admins and auditors" "403 is a JSON error"
hold "$audrey" "$tB" '{"reason":'
assert_eq "$(status)" 400 "bad JSON"
hold "$audrey" "$tB" '{"reason":"x","until":"never"}'
assert_eq "$(status)" 400 "unknown field"
hold "$audrey" "$tB" '{}'
assert_eq "$(status)" 400 "missing reason"
hold "$audrey" "$tB" '{"reason":""}'
assert_eq "$(status)" 400 "empty reason"
hold "$audrey" "$tB" "{\"reason\":\"$(printf 'x%.0s' $(seq 1 1001))\"}"
assert_eq "$(status)" 400 "reason over 1000 bytes"
hold "$audrey" "$tB" '{"reason":"two\nlines"}'
assert_eq "$(status)" 400 "reason with a control character"
hold "$audrey" "$tA" '{"reason":"nothing to lift"}' lift
assert_eq "$(status)" 409 "lift without a hold"
hold "$audrey" ffffffffffffffffffffffffffffffff '{"reason":"x"}'
assert_eq "$(status)" 404 "hold on no transfer"
api "$audrey" GET "/api/v1/transfers/$tB/hold" >/dev/null
assert_eq "$(status)" 405 "GET on hold"
reasonB="Litigation hold: case 2026-17 (訴訟)"
hold "$audrey" "$tB" "{\"reason\":\"$reasonB\"}"
assert_eq "$(status)" 201 "hold by an auditor: $(cat "$T/body")"
assert_eq "$(json 'j["id"]')" "$tB" "hold answers with the transfer"
assert_eq "$(json 'j["legal_hold"]["reason"]')" "$reasonB" "legal_hold reason"
assert_eq "$(json 'j["legal_hold"]["placed_by"]')" audrey "legal_hold placed_by"
hold "$adam" "$tB" '{"reason":"again"}'
assert_eq "$(status)" 409 "second hold"
api "$audrey" GET "/api/v1/transfers/$tA" >/dev/null
assert_eq "$(status)" 200 "an auditor reads another user's transfer"
api "$audrey" GET "/api/v1/transfers/$tA/files/$(json 'j["files"][0]["id"]')" >/dev/null
assert_eq "$(status)" 403 "an auditor cannot download contents"
api "$audrey" DELETE "/api/v1/transfers/$tA" >/dev/null
assert_eq "$(status)" 403 "an auditor still cannot revoke"
api "$audrey" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{}' >/dev/null
assert_eq "$(status)" 403 "an auditor still cannot create"
ok "legal hold: 403 for a sender, 400 for bad bodies, 409 twice or without one, 201 for an auditor"

# Legal hold from okuructl (on the draft): admins and auditors, recorded, listed.
set +e
"$OKURUCTL" -c "$CONF" hold place "$tD" --by alice --reason r >/dev/null 2>&1
rc1=$?
"$OKURUCTL" -c "$CONF" hold place "$tD" --by adam --reason $'a\tb' >/dev/null 2>&1
rc2=$?
set -e
assert_eq "$rc1" 1 "okuructl hold by a sender"
assert_eq "$rc2" 1 "okuructl hold with a control character"
"$OKURUCTL" -c "$CONF" hold place "$tD" --by adam --reason "Audit request 7" >/dev/null
assert_contains "$("$OKURUCTL" -c "$CONF" hold list "$tD")" "by adam: \"Audit request 7\"; active" \
	"okuructl hold list (active)"
"$OKURUCTL" -c "$CONF" hold lift "$tD" --by audrey --reason "request answered" >/dev/null
assert_contains "$("$OKURUCTL" -c "$CONF" hold list)" "lifted" "okuructl hold list (lifted)"
assert_contains "$("$OKURUCTL" -c "$CONF" hold list)" "by audrey: \"request answered\"" \
	"okuructl hold list names who lifted it"
set +e
"$OKURUCTL" -c "$CONF" hold lift "$tD" --by audrey --reason again >/dev/null 2>&1
rc1=$?
set -e
assert_eq "$rc1" 1 "okuructl lift without a hold"
ok "okuructl hold place/lift/list, for admins and auditors"

# The audit log: each hold placed or lifted, by the API user or okuructl's OS
# user, with its reason and the user it is in the name of; refusals change nothing.
assert_eq "$(arec "$tB" | grep '^hold\.')" "hold.placed|user|audrey|ok|" "audit: the API hold"
assert_eq "$(adet hold.placed "$tB" 'd["reason"], d["by"]')" "('$reasonB', 'audrey')" "hold.placed detail"
assert_eq "$(arec "$tD" | grep '^hold\.')" "hold.placed|admin-cli|$(id -un)|ok|
hold.lifted|admin-cli|$(id -un)|ok|" "audit: okuructl's hold and lift"
assert_eq "$(adet hold.placed "$tD" 'd["reason"], d["by"]')" "('Audit request 7', 'adam')" "okuructl hold detail"
assert_eq "$(adet hold.lifted "$tD" 'd["reason"], d["by"]')" "('request answered', 'audrey')" "okuructl lift detail"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: holds placed and lifted over the API and by okuructl"

# Past expiry, before expiry + retention: nothing is purged.
clock +2d
runs_after_move
[ -f "$(blob "$fA")" ] || fail "blob of A removed before its retention passed"
assert_eq "$(sql "SELECT length(wrapped_key) > 0, shredded FROM files WHERE id = '$fA'")" "1|0" \
	"key of A before its retention passed"
api "$alice" GET "/api/v1/transfers/$tA/files/$fA" >/dev/null
assert_eq "$(status)" 200 "staff download before the purge"
assert_eq "$(sha "$T/body")" "$(sha "$T/a.bin")" "download before the purge"
if grep -q 'event=purge.content' "$LOG"; then fail "purged too early"; fi
ok "expired but within retention: blob, key and download remain"

# Past expiry + retention: A is purged, B is held.
clock +4d
wait_log "event=purge.content transfer=$tA files=1 bytes=200000 reason=\"expired $expA \\+ retention 2 days\""
wait_log "event=purge.run content="
assert_eq "$(sql "SELECT length(wrapped_key), key_id, shredded FROM files WHERE id = '$fA'")" "0||1" \
	"key of A erased"
for _ in $(seq 1 50); do
	[ "$(sql "SELECT state FROM files WHERE id = '$fA'")" = purged ] && break
	sleep 0.1
done
assert_eq "$(sql "SELECT state FROM files WHERE id = '$fA'")" purged "A marked purged"
[ ! -e "$(blob "$fA")" ] || fail "blob of A still in storage"
assert_eq "$(sql "SELECT what, files, bytes, reason FROM purges WHERE transfer_id = '$tA'")" \
	"content|1|200000|expired $expA + retention 2 days" "purges row for A"
api "$alice" GET "/api/v1/transfers/$tA/files/$fA" >/dev/null
assert_eq "$(status)" 410 "staff download after the purge"
api "$alice" GET "/api/v1/transfers/$tA" >/dev/null
[ "$(json 'j["retention"]["content_purged"]')" != None ] || fail "content_purged not shown"
assert_eq "$(json 'j["files"][0]["state"]')" purged "file state in the JSON"
assert_eq "$(json 'j["files"][0]["scan"]["content"]')" destroyed "scan.content in the JSON"
api "$alice" PATCH "/api/v1/transfers/$tA" -H 'Content-Type: application/json' \
	-d '{"expires_days":10}' >/dev/null
assert_eq "$(status)" 409 "extending a purged transfer"
curl -sS --cacert "$DATA/tls/cert.pem" -o "$T/body" -w '%{http_code}' "$linkA" >"$T/status"
assert_eq "$(status)" 404 "recipient's link after the purge"
ok "after expiry + retention: keys erased, blob removed, 410 for staff, 404 page for the recipient, purge recorded"

[ -f "$(blob "$fB")" ] || fail "held blob of B removed"
assert_eq "$(sql "SELECT length(wrapped_key) > 0, shredded FROM files WHERE id = '$fB'")" "1|0" \
	"key of held B"
if grep -q "event=purge.content transfer=$tB" "$LOG"; then fail "held transfer purged"; fi
api "$adam" GET "/api/v1/transfers/$tB/files/$fB" >/dev/null
assert_eq "$(status)" 200 "held transfer still downloadable (admin)"
assert_eq "$(sha "$T/body")" "$(sha "$T/b.bin")" "held transfer content"
out=$(dry "$(plus "$dueA" 86400)")
assert_contains "$out" "held     $tB due" "dry run lists B as held"
assert_contains "$out" "kept: legal hold placed by audrey at" "dry run names who placed the hold"
assert_contains "$out" "\"$reasonB\"" "dry run gives the hold's reason"
case $out in *"content  $tA"*) fail "dry run lists A's content again: $out" ;; esac
ok "a held transfer is not purged; the dry run lists it as held with who and why"

hold "$audrey" "$tB" '{"reason":"Case settled"}' lift
assert_eq "$(status)" 200 "lift: $(cat "$T/body")"
assert_eq "$(json 'j["legal_hold"]')" None "no active hold after lift"
assert_eq "$(json 'j["holds"][0]["lifted_by"]')" audrey "history: lifted_by"
assert_eq "$(json 'j["holds"][0]["lift_reason"]')" "Case settled" "history: lift_reason"
assert_eq "$(json 'j["holds"][0]["reason"]')" "$reasonB" "history: reason"
wait_log "event=purge.content transfer=$tB files=1 bytes=150000"
for _ in $(seq 1 50); do [ -e "$(blob "$fB")" ] || break; sleep 0.1; done
[ ! -e "$(blob "$fB")" ] || fail "blob of B still in storage after the lift"
assert_eq "$(sql "SELECT p.name, h.reason, h.placed_at > 0, l.name, h.lift_reason, h.lifted_at >= h.placed_at
	FROM legal_holds h JOIN users p ON p.id = h.placed_by JOIN users l ON l.id = h.lifted_by
	WHERE h.transfer_id = '$tB'")" "audrey|$reasonB|1|audrey|Case settled|1" "hold recorded"
grep -q "event=hold.placed transfer=$tB user=audrey role=auditor" "$LOG" || fail "hold not logged"
grep -q "event=hold.lifted transfer=$tB user=audrey" "$LOG" || fail "lift not logged"
ok "after the lift the next run purges it; the hold stays recorded with who, when and why"

# The draft is abandoned at created + 4 days, its content goes 2 days later.
[ -f "$(blob "$fD")" ] || fail "draft purged too early"
clock +7d
wait_log "event=purge.content transfer=$tD files=1 bytes=150000 reason=\"draft abandoned"
api "$alice" PUT "/api/v1/transfers/$tD/files/late.bin" --data-binary "@$T/a.bin" >/dev/null
assert_eq "$(status)" 409 "upload into a purged draft"
ok "an abandoned draft's content is purged and it takes no more files"

# Past metadata retention: the records go, the purges rows stay.
lids=$(sql "SELECT group_concat(quote(id)) FROM links WHERE transfer_id IN ('$tA', '$tB')")
[ "$(sql "SELECT count(*) FROM link_attempts WHERE link_id IN ($lids)")" -gt 0 ] ||
	fail "no link attempt to purge"
clock +12d
wait_log "event=purge.metadata transfer=$tA files=1 bytes=200000 reason=\"expired $expA \\+ metadata retention 10 days\""
wait_log "event=purge.metadata transfer=$tB"
for u in "$alice" "$audrey" "$adam"; do
	api "$u" GET "/api/v1/transfers/$tA" >/dev/null
	assert_eq "$(status)" 404 "transfer after its records were purged"
done
for t in transfers files links outbox legal_holds; do
	col=transfer_id
	[ "$t" = transfers ] && col=id
	assert_eq "$(sql "SELECT count(*) FROM $t WHERE $col IN ('$tA', '$tB')")" 0 "$t rows left"
done
for t in link_attempts link_sessions downloads download_progress; do
	assert_eq "$(sql "SELECT count(*) FROM $t WHERE link_id IN ($lids)")" 0 "$t rows left"
done
assert_eq "$(sql "SELECT count(*) FROM scans WHERE file_id IN ('$fA', '$fB')")" 0 "scans rows left"
assert_eq "$(sql "SELECT group_concat(what, ',') FROM (SELECT what FROM purges WHERE transfer_id = '$tA' ORDER BY id)")" \
	"content,metadata" "purges rows of A stay"
assert_eq "$(sql "SELECT count(*) FROM purges WHERE transfer_id = '$tB'")" 2 "purges rows of B stay"
api "$alice" GET "/api/v1/transfers/$tD" >/dev/null
assert_eq "$(status)" 200 "the draft's records are kept until their own time"
ok "after metadata retention: the transfer is gone (404), the purges rows remain"

# The scanner still works after the moves (libfaketime in the sandboxed worker).
tE=$(new_transfer "$alice")
upload_clean "$alice" "$tE" e.bin "$T/a.bin" >/dev/null
okuru_stop
smtp_stop
grep -q "event=shutdown.done status=clean" "$LOG" || fail "no clean shutdown"
ok "scanning still works after the clock moved; SIGTERM stops the purger cleanly"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify at the end"
