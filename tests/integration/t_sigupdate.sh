#!/bin/bash
# t_sigupdate.sh - signature updates are picked up without a restart and
# without failing a scan in flight: the new engine loads in a new worker,
# then the old one retires (after its scan). A broken update keeps the old
# engine. SIGHUP replaces the workers too. Versions and counts show in
# /healthz and on each verdict.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
conf_set clamav check_interval 1
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")

v0=$(health 'j["scanner"]["version"]')
assert_eq "$(health 'j["scanner"]["signatures"]')" 2 "signatures before"

# A file the current signatures do not know.
head -c 50000 /dev/urandom >"$T/sample"
upload_clean "$tok" "$tid" before.bin "$T/sample" >/dev/null
w0=$(worker_pids)
[ "$(echo "$w0" | wc -l)" = 1 ] || fail "expected one worker, got: $w0"

# Hold the worker in a scan, then publish a signature for the sample.
kill -STOP "$w0"
EXTRA_PIDS="$w0"
head -c 70000 /dev/urandom >"$T/inflight"
fid_inflight=$(upload "$tok" "$tid" inflight.bin "$T/inflight")
sigtool --md5 "$T/sample" | sed 's/:sample$/:Okuru.Test.Update/' >"$T/update.hdb"
mv "$T/update.hdb" "$SIGS/okuru-update.hdb"

# The new engine loads while the old worker is still busy.
for _ in $(seq 1 100); do
	[ "$(health 'j["scanner"]["signatures"]')" = 3 ] && break
	sleep 0.1
done
assert_eq "$(health 'j["scanner"]["signatures"]')" 3 "signatures after the update"
v1=$(health 'j["scanner"]["version"]')
[ "$v1" != "$v0" ] || fail "version did not change"
assert_contains "$v1" "okuru-update.hdb@" "new file in the version"
kill -0 "$w0" || fail "the busy old worker was stopped before its scan ended"
kill -CONT "$w0"
assert_eq "$(wait_scan "$tok" "$tid" "$fid_inflight")" clean "scan in flight during the update"
assert_eq "$(file_field "$tok" "$tid" "$fid_inflight" "f['scan']['signatures']")" "$v0" \
	"the scan in flight finished with the old signatures"
for _ in $(seq 1 100); do kill -0 "$w0" 2>/dev/null || break; sleep 0.05; done
kill -0 "$w0" 2>/dev/null && fail "the old worker did not retire after its scan"
ok "an update loads a new engine first; the scan in flight completes on the old one, which then retires"

fid=$(upload "$tok" "$tid" after.bin "$T/sample")
assert_eq "$(wait_scan "$tok" "$tid" "$fid")" infected "same content after the update"
assert_contains "$(file_field "$tok" "$tid" "$fid" "f['scan']['signature']")" Okuru.Test.Update "new signature"
assert_eq "$(file_field "$tok" "$tid" "$fid" "f['scan']['signatures']")" "$v1" "verdict carries the new version"
grep -q "event=scanner.update why=signatures_changed" "$LOG" || fail "update not logged"
ok "new signatures detect at once, without a restart"

# A broken update (a malformed signature file) keeps the working engine.
w1=$(worker_pids)
printf 'this is not a signature\n' >"$SIGS/broken.ndb"
for _ in $(seq 1 100); do
	grep -q "event=scanner.update_failed" "$LOG" && break
	sleep 0.1
done
grep -q "event=scanner.update_failed" "$LOG" || fail "broken update not reported"
assert_eq "$(worker_pids)" "$w1" "the working worker was kept"
assert_eq "$(health 'j["scanner"]["status"]')" ok "scanner still ok"
assert_eq "$(health 'j["scanner"]["version"]')" "$v1" "version unchanged"
[ -n "$(health 'j["scanner"].get("last_error", "")')" ] || fail "the failure is not shown in /healthz"
upload_clean "$tok" "$tid" during-broken.bin "$T/inflight" >/dev/null
ok "a broken update is refused; the previous engine keeps scanning"

# Fixing it is picked up; SIGHUP also replaces the workers.
rm "$SIGS/broken.ndb"
for _ in $(seq 1 100); do
	[ "$(worker_pids)" != "$w1" ] && [ "$(health 'j["scanner"]["workers"]')" = 1 ] && break
	sleep 0.1
done
w2=$(worker_pids)
[ "$w2" != "$w1" ] || fail "the fixed directory was not loaded"
kill -HUP "$PID"
for _ in $(seq 1 50); do grep -q "event=scanner.reload settings=unchanged" "$LOG" && break; sleep 0.1; done
grep -q "event=scanner.reload settings=unchanged" "$LOG" || fail "unchanged reload not logged"
sleep 0.5
assert_eq "$(worker_pids)" "$w2" "SIGHUP without a scanner change keeps the engine"
conf_set scanner timeout 300
kill -HUP "$PID"
for _ in $(seq 1 100); do
	[ "$(worker_pids)" != "$w2" ] && [ "$(health 'j["scanner"]["workers"]')" = 1 ] && break
	sleep 0.1
done
[ "$(worker_pids)" != "$w2" ] || fail "SIGHUP did not replace the worker"
grep -q "event=scanner.update why=reload" "$LOG" || fail "reload not logged"
upload_clean "$tok" "$tid" after-hup.bin "$T/inflight" >/dev/null
ok "a repaired directory, and SIGHUP with new scanner settings, bring in a fresh engine; SIGHUP alone does not"
okuru_stop
