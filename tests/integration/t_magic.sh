#!/bin/bash
# t_magic.sh - detected file types through the real daemon: the scanner
# worker runs libmagic, inside its sandbox, on the first MiB of the
# decrypted content, and okurud stores the type with the verdict. A PDF, a
# ZIP, a text file, an empty file, a 3 MiB PDF (sixteen chunks read back
# through the decrypting path) and a DOS program named report.pdf each get
# their own type in GET /api/v1/transfers/ID; infected and encrypted files
# get theirs too; the type is null before the scan. okuructl scan prints the
# same types, the bank policy denies the disguised program, and a missing
# magic database stops okurud and okuructl scan with a clear reason.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

command -v zip >/dev/null || fail "zip is not installed (scripts/deps.sh)"
okuru_init
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
top=$(cd "$LIBDIR/../.." && pwd)

# The files, made now.
mkdir "$T/m"
printf '%%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%%%EOF\n' \
	>"$T/m/real.pdf"
printf 'Quarterly figures, in plain text.\nNothing else.\n' >"$T/m/notes.txt"
(cd "$T/m" && zip -q archive.zip notes.txt)
# A DOS/PE header: "MZ", then the rest of a 64-byte header and padding.
{
	printf 'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00'
	head -c 1000 /dev/zero
} >"$T/m/report.pdf"
: >"$T/m/empty.txt"
{
	printf '%%PDF-1.7\n'
	head -c $((3 * 1024 * 1024)) /dev/urandom
} >"$T/m/big.pdf"
eicar >"$T/m/eicar.com"
head -c 5000 /dev/urandom >"$T/m/inner.bin"
(cd "$T/m" && zip -q -P s3cret locked.zip inner.bin)

# Before its scan a file has no type: null in the upload's answer.
api "$tok" PUT "/api/v1/transfers/$tid/files/real.pdf" --data-binary "@$T/m/real.pdf" >/dev/null
assert_eq "$(status)" 201 "upload real.pdf"
assert_eq "$(json 'j["type"]')" None "type before the scan"
id_pdf=$(json 'j["id"]')

typed() { # NAME FILE STATE TYPE - upload, wait for the scan, check verdict and type
	fid=$(upload "$tok" "$tid" "$1" "$2")
	assert_eq "$(wait_scan "$tok" "$tid" "$fid")" "$3" "verdict for $1"
	assert_eq "$(file_field "$tok" "$tid" "$fid" "f['type']")" "$4" "type of $1"
	echo "$fid" >"$T/last"
}
assert_eq "$(wait_scan "$tok" "$tid" "$id_pdf")" clean "verdict for real.pdf"
assert_eq "$(file_field "$tok" "$tid" "$id_pdf" "f['type']")" application/pdf "type of real.pdf"
typed archive.zip "$T/m/archive.zip" clean application/zip
typed notes.txt "$T/m/notes.txt" clean text/plain
typed report.pdf "$T/m/report.pdf" clean application/x-dosexec
id_disguised=$(cat "$T/last")
typed empty.txt "$T/m/empty.txt" clean application/x-empty
typed big.pdf "$T/m/big.pdf" clean application/pdf
ok "PDF, ZIP, text, empty, a 3 MiB PDF and a DOS program named report.pdf get their detected types"

typed eicar.com "$T/m/eicar.com" infected text/plain
typed locked.zip "$T/m/locked.zip" unscannable application/zip
ok "infected and encrypted files get their types too"

# Stored with the verdict, and logged with it.
assert_eq "$(sqlq "$DATA/okuru.db" "SELECT detected_type FROM files WHERE id = :f" f="$id_disguised")" \
	application/x-dosexec "detected_type column"
assert_eq "$(sqlite3 "$DATA/okuru.db" "SELECT count(*) FROM files WHERE detected_type = ''")" 0 \
	"every scanned file has a type"
grep -q "event=scan.verdict .*file=$id_disguised .*type=application/x-dosexec" "$LOG" ||
	fail "the verdict's log line has no type"
grep -q "event=scanner.ready .*libmagic=5\." "$LOG" || fail "scanner.ready does not name libmagic"
ok "the type is stored in files.detected_type and logged with the verdict"

# The policy engine decides on the detected type: the bank denies the
# disguised program, the real PDF passes.
t=$(file_field "$tok" "$tid" "$id_disguised" "f['type']")
set +e
(cd "$top/policy" && "$OKURUCTL" policy explain --policy bank.policy --sender alice \
	--recipient bob@client.example --file "report.pdf:1K:$t") >"$T/explain" 2>&1
rc=$?
set -e
assert_eq "$rc" 1 "explain exit status for the disguised program"
assert_contains "$(cat "$T/explain")" "content-mismatch: file report.pdf is application/x-dosexec" \
	"mismatch rule"
assert_contains "$(cat "$T/explain")" "ファイルの中身が拡張子と一致しません" "Japanese message"
t=$(file_field "$tok" "$tid" "$id_pdf" "f['type']")
(cd "$top/policy" && "$OKURUCTL" policy explain --policy bank.policy --sender alice \
	--recipient bob@client.example --file "real.pdf:1K:$t") >"$T/explain"
grep -q '^mismatch' "$T/explain" && fail "a real PDF is a mismatch: $(cat "$T/explain")"
ok "bank.policy denies the disguised program by its detected type and passes the real PDF"
okuru_stop

# okuructl scan prints the same types, last on each line.
conf="$T/scan.conf"
printf 'scanner = {\n  program = "%s";\n  tmpdir = "%s";\n};\n' "$OKURU_SCANNER" "$SCANTMP" >"$conf"
set +e
"$OKURUCTL" -c "$conf" scan --database "$SIGS" --allow-test-signatures "$T/m/real.pdf" \
	"$T/m/report.pdf" "$T/m/archive.zip" "$T/m/eicar.com" "$T/m/locked.zip" "$T/m" >"$T/out" 2>"$T/err"
rc=$?
set -e
assert_eq "$rc" 2 "okuructl scan exit status"
assert_eq "$(sed -n 1p "$T/out")" "$T/m/real.pdf: clean type=application/pdf" "PDF line"
assert_eq "$(sed -n 2p "$T/out")" "$T/m/report.pdf: clean type=application/x-dosexec" "disguised line"
assert_eq "$(sed -n 3p "$T/out")" "$T/m/archive.zip: clean type=application/zip" "ZIP line"
assert_eq "$(sed -n 4p "$T/out")" "$T/m/eicar.com: infected Okuru.Test.EICAR.UNOFFICIAL type=text/plain" \
	"infected line"
assert_eq "$(sed -n 5p "$T/out")" \
	"$T/m/locked.zip: unscannable (encrypted) Heuristics.Encrypted.Zip type=application/zip" \
	"unscannable line"
assert_eq "$(sed -n 6p "$T/out")" "$T/m: error (not a regular file)" "no type without a scan"
ok "okuructl scan prints each file's type"

# Without its magic database the worker does not start: okurud and
# okuructl scan say why ($MAGIC reaches the worker through the environment).
set +e
MAGIC="$T/no-such.mgc" timeout 60 "$OKURUD" -c "$CONF" >"$T/refuse.log" 2>&1
rc=$?
MAGIC="$T/no-such.mgc" "$OKURUCTL" -c "$conf" scan --database "$SIGS" --allow-test-signatures \
	"$T/m/real.pdf" >"$T/out" 2>"$T/err"
rc2=$?
set -e
[ "$rc" -ne 0 ] || fail "okurud started without a magic database"
assert_contains "$(cat "$T/refuse.log")" "cannot load the magic database" "okurud's reason"
assert_eq "$rc2" 2 "okuructl scan without a magic database"
assert_contains "$(cat "$T/err")" "cannot load the magic database" "okuructl's reason"
ok "a missing magic database is refused with a clear reason"
[ -z "$(ls -A "$SCANTMP")" ] || fail "worker temp directories left: $(ls "$SCANTMP")"
