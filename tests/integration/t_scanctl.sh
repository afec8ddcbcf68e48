#!/bin/bash
# t_scanctl.sh - okuructl scan: the same worker, sandbox, engine and limits
# as okurud, on local files. Every archive and executable format in Debian's
# clamav-testfiles is found through the sandbox (an MD5 signature of the
# embedded clam.exe), verdicts and exit codes are what a mail administrator
# scripts against, and a bad database is refused with a clear message.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

corpus=/usr/share/clamav-testfiles
[ -f "$corpus/clam.exe" ] || fail "clamav-testfiles is not installed (scripts/deps.sh)"
make_sigs
sigtool --md5 "$corpus/clam.exe" | sed 's/:clam.exe$/:Okuru.Test.ClamExe/' >"$SIGS/clamexe.hdb"
conf="$T/scan.conf"
printf 'scanner = {\n  program = "%s";\n  tmpdir = "%s";\n};\n' "$OKURU_SCANNER" "$SCANTMP" >"$conf"
scan() {
	set +e
	"$OKURUCTL" -c "$conf" scan --database "$SIGS" --allow-test-signatures "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
	set -e
}
# notype - the output lines without their detected types: random test data
# is almost always application/octet-stream, but by chance may start like
# something libmagic knows.
notype() { sed 's/ type=[a-z0-9][-a-z0-9.+_!#$&^]*\/[-a-z0-9.+_!#$&^]*$//' "$T/out"; }

scan "$corpus"/*
assert_eq "$(cat "$T/rc")" 1 "exit status with infected files"
n=$(ls "$corpus" | wc -l)
[ "$n" -ge 40 ] || fail "only $n test files in $corpus"
assert_eq "$(grep -c ': infected Okuru.Test.ClamExe' "$T/out")" "$n" "formats detected: $(grep -v 'infected Okuru.Test.ClamExe' "$T/out")"
ok "all $n files of clamav-testfiles (ZIP, 7z, ARJ, CAB, CHM, cpio, tar.gz, PE packers, NSIS, OLE2, PDF, RTF, mail, ...) found through the sandbox"

assert_contains "$(cat "$T/err")" "WARNING: TEST SIGNATURE DATABASE" "loud test database warning"
assert_contains "$(cat "$T/err")" "3 signatures" "signature count"

eicar >"$T/e.com"
head -c 100000 /dev/urandom >"$T/clean"
(cd "$T" && zip -q -P pw locked.zip clean)
scan "$T/clean"
assert_eq "$(cat "$T/rc")" 0 "exit status for a clean file"
assert_eq "$(notype)" "$T/clean: clean" "clean line"
assert_contains "$(cat "$T/out")" "$T/clean: clean type=" "clean line with a type"
scan "$T/e.com" "$T/locked.zip" "$T/clean"
assert_eq "$(cat "$T/rc")" 1 "exit status for infected and unscannable"
assert_eq "$(sed -n 1p "$T/out")" "$T/e.com: infected Okuru.Test.EICAR.UNOFFICIAL type=text/plain" "infected line"
assert_eq "$(sed -n 2p "$T/out")" "$T/locked.zip: unscannable (encrypted) Heuristics.Encrypted.Zip type=application/zip" "unscannable line"
assert_eq "$(notype | sed -n 3p)" "$T/clean: clean" "clean after the others"
scan "$T/clean" "$T/missing" "$T"
assert_eq "$(cat "$T/rc")" 2 "exit status when a file cannot be scanned"
assert_contains "$(cat "$T/out")" "$T/missing: error (No such file or directory)" "missing file"
assert_contains "$(cat "$T/out")" "$T: error (not a regular file)" "directory"
ok "verdict lines with detected types, and exit status 0 clean, 1 infected or unscannable, 2 error"

# The configuration's limits apply.
printf 'clamav = {\n  max_file_size = "64K";\n};\n' >>"$conf"
scan "$T/clean"
assert_eq "$(notype)" "$T/clean: unscannable (limit) Heuristics.Limits.Exceeded.MaxFileSize" "limit from the config"
ok "limits come from the configuration"

set +e
"$OKURUCTL" -c "$conf" scan --database "$SIGS" "$T/clean" >/dev/null 2>"$T/err"
rc=$?
set -e
assert_eq "$rc" 2 "test database without --allow-test-signatures"
assert_contains "$(cat "$T/err")" "has no official ClamAV databases" "refusal message"
set +e
"$OKURUCTL" -c "$conf" scan --database "$T/nowhere" --allow-test-signatures "$T/clean" >/dev/null 2>"$T/err"
rc=$?
set -e
assert_eq "$rc" 2 "missing database"
assert_contains "$(cat "$T/err")" "signature directory $T/nowhere" "missing database message"
ok "a test database needs --allow-test-signatures; a missing one is named"
[ -z "$(ls -A "$SCANTMP")" ] || fail "okuructl left worker temp directories: $(ls "$SCANTMP")"
