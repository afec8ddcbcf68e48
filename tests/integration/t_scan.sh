#!/bin/bash
# t_scan.sh - every upload is scanned by the real libclamav (a signature
# database built at test time) through the real daemon: EICAR plain, in a
# ZIP, three ZIPs deep; an MD5 signature; a password-protected ZIP is
# unscannable; a clean file of several MiB comes back intact; infected
# content is destroyed (key erased, blob removed) or kept under quarantine;
# limits make a file unscannable; every verdict is recorded with the
# signature version that reached it.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

command -v zip >/dev/null || fail "zip is not installed (scripts/deps.sh)"
okuru_init
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")

# /healthz reports the engine, the test database and the sandbox.
assert_eq "$(health 'j["scanner"]["status"]')" ok "scanner status"
assert_eq "$(health 'j["scanner"]["database"]')" test "test database reported"
assert_eq "$(health 'j["scanner"]["test_signatures"]')" True "test signatures flagged"
assert_eq "$(health 'j["scanner"]["signatures"]')" 2 "signature count"
assert_contains "$(health 'j["scanner"]["version"]')" "okuru-test.ndb@" "signature version"
assert_contains "$(health 'j["scanner"]["engine"]')" "ClamAV " "engine"
grep -q "event=scanner.test_signatures" "$LOG" || fail "no loud warning about test signatures"
ok "health shows engine, signature count and version, and the test database"

# The files, made now.
mkdir "$T/z"
eicar >"$T/z/eicar.com"
(cd "$T/z" && zip -q one.zip eicar.com && zip -q two.zip one.zip && zip -q three.zip two.zip)
head -c 200000 /dev/urandom >"$T/z/inner.bin"
(cd "$T/z" && zip -q -P s3cret locked.zip inner.bin)
head -c $((6 * 1024 * 1024 + 123)) /dev/urandom >"$T/clean.bin"
printf 'x%.0s' $(seq 1 1000) >"$T/z/plain.txt"
(cd "$T/z" && tar czf archive.tgz plain.txt eicar.com)

expect() { # NAME FILE STATE [SIGNATURE-PREFIX REASON]
	fid=$(upload "$tok" "$tid" "$1" "$2")
	st=$(wait_scan "$tok" "$tid" "$fid")
	assert_eq "$st" "$3" "verdict for $1"
	if [ -n "${4:-}" ]; then
		assert_contains "$(file_field "$tok" "$tid" "$fid" "f['scan']['signature']")" "$4" \
			"signature for $1"
	fi
	if [ -n "${5:-}" ]; then
		assert_eq "$(file_field "$tok" "$tid" "$fid" "f['scan']['reason']")" "$5" "reason for $1"
	fi
	echo "$fid" >"$T/last"
}

expect eicar.com "$T/z/eicar.com" infected Okuru.Test.EICAR
id_eicar=$(cat "$T/last")
expect one.zip "$T/z/one.zip" infected Okuru.Test.EICAR
expect three.zip "$T/z/three.zip" infected Okuru.Test.EICAR
expect archive.tgz "$T/z/archive.tgz" infected Okuru.Test.EICAR
expect marker.bin "$T/marker.bin" infected Okuru.Test.Marker
ok "EICAR plain, in a ZIP, three ZIPs deep and in a tar.gz; an MD5 signature"

# EICAR in the middle of a 24 MiB ZIP: libclamav must read every member
# (with fmap page aging it silently skipped those past ~8 MiB).
mkdir "$T/deep"
for i in $(seq 1 12); do head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/deep/a$i.bin"; done
cp "$T/z/eicar.com" "$T/deep/m.com"
(cd "$T/deep" && zip -q ../deep.zip a1.bin a2.bin a3.bin a4.bin a5.bin a6.bin a7.bin a8.bin m.com \
	a9.bin a10.bin a11.bin a12.bin)
expect deep.zip "$T/deep.zip" infected Okuru.Test.EICAR
grep -q "fmap_readpage" "$LOG" && fail "libclamav could not read part of a file"
ok "EICAR in a member past 16 MiB of a 24 MiB ZIP"

expect locked.zip "$T/z/locked.zip" unscannable Heuristics.Encrypted.Zip encrypted
id_locked=$(cat "$T/last")
api "$tok" GET "/api/v1/transfers/$tid/files/$id_locked" >/dev/null
assert_eq "$(status)" 409 "password ZIP download"
assert_contains "$(json 'j["error"]')" "cannot be scanned" "blocked message"
ok "a password-protected ZIP is unscannable and blocked"

expect clean.bin "$T/clean.bin" clean
id_clean=$(cat "$T/last")
curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -o "$T/back" \
	"$URL/api/v1/transfers/$tid/files/$id_clean"
assert_eq "$(sha "$T/back")" "$(sha "$T/clean.bin")" "clean file content"
assert_contains "$(file_field "$tok" "$tid" "$id_clean" "f['scan']['signatures']")" "okuru-test.hdb@" \
	"signature version on the verdict"
assert_eq "$(file_field "$tok" "$tid" "$id_clean" "f['scan']['engine'].startswith('ClamAV ')")" True \
	"engine on the verdict"
ok "a clean file of 6 MiB is clean and downloads intact"

# Infected content is destroyed: no key, no blob, no download.
assert_eq "$(file_field "$tok" "$tid" "$id_eicar" "f['scan']['content']")" destroyed "content destroyed"
[ ! -e "$DATA/storage/blobs/${id_eicar:0:2}/$id_eicar" ] || fail "infected blob still on disk"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT length(wrapped_key), key_id, shredded FROM files WHERE id = :f" f="$id_eicar")" \
	"0||1" "infected file's data key erased"
api "$tok" GET "/api/v1/transfers/$tid/files/$id_eicar" >/dev/null
assert_eq "$(status)" 409 "infected download"
assert_contains "$(json 'j["error"]')" "infected (Okuru.Test.EICAR" "infected message"
[ -e "$DATA/storage/blobs/${id_locked:0:2}/$id_locked" ] || fail "unscannable blob was removed"
ok "infected content destroyed (data key erased, blob removed); unscannable kept but blocked"

# Every verdict is in scans with the engine and signature version.
n=$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM scans WHERE engine LIKE 'ClamAV %' AND db_version LIKE '%okuru-test.ndb@%'")
assert_eq "$n" 8 "scan records with engine and version"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT verdict || ' ' || detail FROM scans WHERE file_id = :f" f="$id_locked")" \
	"unscannable Heuristics.Encrypted.Zip" "recorded verdict"
ok "every verdict is recorded with the engine and signature version"

# Nothing extracted from the archives is left in the scanner's temp area.
left=$(find "$SCANTMP" -mindepth 2 | head -n 5)
[ -z "$left" ] || fail "scanner temp files left: $left"
ok "the scanner's temp directory is empty after the scans"
okuru_stop
[ -z "$(ls -A "$SCANTMP")" ] || fail "worker temp directory not removed at stop"

# Limits: a file over clamav.max_file_size, and an archive member over it.
conf_set clamav max_file_size '"1M"'
conf_set clamav max_scan_size '"8M"'
okuru_start
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
expect big.bin "$T/big.bin" unscannable Heuristics.Limits.Exceeded limit
# 2 MiB of zeros deflate to a few KiB: the archive is small, its member is not.
head -c $((2 * 1024 * 1024)) /dev/zero >"$T/z/zeros.bin"
(cd "$T/z" && zip -q big.zip zeros.bin)
[ "$(stat -c %s "$T/z/big.zip")" -lt 100000 ] || fail "test archive unexpectedly large"
expect big.zip "$T/z/big.zip" unscannable Heuristics.Limits.Exceeded limit
ok "over a scan limit (the file, or a member of an archive) is unscannable"
okuru_stop

# Quarantine keeps infected content (encrypted, never served).
conf_set scanner infected '"quarantine"'
okuru_start
expect eicar2.com "$T/z/eicar.com" infected Okuru.Test.EICAR
id_q=$(cat "$T/last")
[ -e "$DATA/storage/blobs/${id_q:0:2}/$id_q" ] || fail "quarantined blob removed"
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT length(wrapped_key), shredded FROM files WHERE id = :f" f="$id_q")" \
	"72|0" "quarantined key kept"
api "$tok" GET "/api/v1/transfers/$tid/files/$id_q" >/dev/null
assert_eq "$(status)" 409 "quarantined download"
ok "quarantine keeps the infected file encrypted and blocked"
okuru_stop

# The audit log: every verdict as file.scanned by the system (outcome the verdict), and
# file.shredded when an infected file's key was erased (not under quarantine).
aq() { sqlite3 -separator ' ' "$DATA/okuru.db" "$1" | tr '\n' ';'; }
assert_eq "$(aq "SELECT count(*) FROM scans s WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = 'file.scanned' AND a.object_kind = 'file' AND a.object_id = s.file_id AND a.outcome = s.verdict AND a.actor_kind = 'system' AND json_extract(a.detail, '$.engine') = s.engine AND json_extract(a.detail, '$.db_version') = s.db_version AND json_extract(a.detail, '$.ms') = s.ms AND json_extract(a.detail, '$.transfer') IS NOT NULL)")" \
	"0;" "every scan recorded with engine, signature version and time"
assert_eq "$(aq "SELECT count(*) FROM audit WHERE event = 'file.scanned'")" "$(aq "SELECT count(*) FROM scans")" "one record per scan"
assert_eq "$(aq "SELECT outcome, json_extract(detail, '$.signature') LIKE 'Okuru.Test.EICAR%' FROM audit WHERE event = 'file.scanned' AND json_extract(detail, '$.name') = 'eicar.com'")" \
	"infected 1;" "EICAR's verdict and signature"
assert_eq "$(aq "SELECT outcome, json_extract(detail, '$.reason'), json_extract(detail, '$.detail') FROM audit WHERE event = 'file.scanned' AND json_extract(detail, '$.name') = 'locked.zip'")" \
	"unscannable encrypted Heuristics.Encrypted.Zip;" "the password ZIP's verdict"
assert_eq "$(aq "SELECT outcome, json_extract(detail, '$.type') != '' FROM audit WHERE event = 'file.scanned' AND json_extract(detail, '$.name') = 'clean.bin'")" \
	"clean 1;" "the clean file's verdict and type"
assert_eq "$(aq "SELECT json_extract(detail, '$.name') FROM audit WHERE event = 'file.shredded' AND actor_kind = 'system' ORDER BY seq")" \
	"eicar.com;one.zip;three.zip;archive.tgz;marker.bin;deep.zip;" "infected files shredded (not the quarantined one)"
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit: every verdict recorded, infected content's shredding recorded"
