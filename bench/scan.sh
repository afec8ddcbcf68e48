#!/usr/bin/env bash
# bench/scan.sh - virus-scan speed and memory of okuru against clamscan.
#
# Not a test: it prints figures. Builds okuru without sanitizers from the
# committed tree (or uses --bin DIR), generates a signature database of a
# few tens of thousands of random signatures (plus EICAR), a large random
# file and a large ZIP, then with the SAME database, the same files, on the
# same machine and in the same run:
#   - okurud: uploads each file and polls until it is clean; reports the
#     worker's own scan time (duration_ms: decrypting the stored blob on
#     demand inside libclamav's read callback) and the wall time from the
#     end of the upload to the verdict,
#   - okuructl scan: wall time (plain file, same worker, sandbox and limits,
#     engine load included), and the same on an empty file (engine load),
#   - clamscan: wall time, and on an empty file (engine load), so that
#     clamscan's scan time = wall - load,
#   - median of --runs runs each (interleaved), the ratios okuru/clamscan,
#   - the okurud worker's VmRSS/VmHWM before any scan and after them, and
#     clamscan's maximum RSS (/usr/bin/time -f %M).
# okurud is restarted before each run: a fresh worker has an empty libclamav
# clean-file cache; otherwise runs 2.. would only hash the unchanged file.
# Every benchmark verdict must be clean, and EICAR must be found by both, or
# it stops at once. A completeness check (EICAR in a deflated member in the
# middle of a 16 MiB ZIP) must be found by clamscan; if okuru misses it, the
# figures are still printed, then the script exits 1.
# All traffic is to 127.0.0.1; everything lives in one temporary directory
# (plus one on /dev/shm for the scanners' temp files) that is removed on
# exit, and okurud is stopped on exit.
#
# Usage: bash bench/scan.sh [--bin DIR] [--runs N] [--size-mib N]
#                           [--zip-files N] [--zip-member-mib N]
#                           [--hdb N] [--ndb N] [--no-pin] [--keep]
# See bench/README.md.
set -euo pipefail

RUNS=3
SIZE_MIB=512
ZIP_FILES=64
ZIP_MEMBER_MIB=4
NHDB=50000
NNDB=4000
BIN=""
KEEP=0
PIN=1

usage() {
	sed -n '/^# Usage:/,/^# See/p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--bin) BIN=${2:?}; shift 2 ;;
	--runs) RUNS=${2:?}; shift 2 ;;
	--size-mib) SIZE_MIB=${2:?}; shift 2 ;;
	--zip-files) ZIP_FILES=${2:?}; shift 2 ;;
	--zip-member-mib) ZIP_MEMBER_MIB=${2:?}; shift 2 ;;
	--hdb) NHDB=${2:?}; shift 2 ;;
	--ndb) NNDB=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--no-pin) PIN=0; shift ;;
	-h | --help) usage 0 ;;
	*) echo "scan.sh: unknown argument: $1" >&2; usage 2 ;;
	esac
done
for v in RUNS SIZE_MIB ZIP_FILES ZIP_MEMBER_MIB NHDB NNDB; do
	case "${!v}" in '' | *[!0-9]*) echo "scan.sh: $v must be a whole number" >&2; exit 2 ;; esac
done
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 10 ] || { echo "scan.sh: --runs must be 1..10" >&2; exit 2; }
# clamav.max_file_size is 2000M: anything larger is unscannable by design.
[ "$SIZE_MIB" -ge 1 ] && [ "$SIZE_MIB" -le 1900 ] || { echo "scan.sh: --size-mib must be 1..1900" >&2; exit 2; }
[ "$ZIP_FILES" -ge 1 ] && [ "$ZIP_FILES" -le 1000 ] || { echo "scan.sh: --zip-files must be 1..1000" >&2; exit 2; }
[ "$ZIP_MEMBER_MIB" -ge 1 ] && [ "$ZIP_MEMBER_MIB" -le 256 ] || { echo "scan.sh: --zip-member-mib must be 1..256" >&2; exit 2; }
[ $((ZIP_FILES * ZIP_MEMBER_MIB)) -le 1900 ] || { echo "scan.sh: the ZIP must stay under 1900 MiB" >&2; exit 2; }
[ "$NHDB" -le 2000000 ] && [ "$NNDB" -le 200000 ] || { echo "scan.sh: --hdb at most 2000000, --ndb at most 200000" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMPBASE=${TMPDIR:-/tmp}
SIZE=$((SIZE_MIB * 1024 * 1024))
MEMBER=$((ZIP_MEMBER_MIB * 1024 * 1024))
ZIPDATA=$((ZIP_FILES * MEMBER))
GIB=1073741824
HZ=$(getconf CLK_TCK)

say() { printf '%s\n' "$*"; }
info() { printf '# %s\n' "$*"; }
die() { printf 'scan.sh: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites -----------------------------------------------------

need_pkgs=()
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v zip >/dev/null 2>&1 || need_pkgs+=(zip)
command -v unzip >/dev/null 2>&1 || need_pkgs+=(unzip)
[ -x /usr/bin/time ] || need_pkgs+=(time)
{ command -v clamscan >/dev/null 2>&1 && command -v sigtool >/dev/null 2>&1; } || need_pkgs+=(clamav)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	info "installing missing Debian packages: ${need_pkgs[*]}"
	[ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}" >/dev/null ||
		die "apt-get install ${need_pkgs[*]} failed"
fi
command -v python3 >/dev/null 2>&1 || die "python3 is needed (free port, JSON, signatures)"
[ -d /dev/shm ] || die "no /dev/shm: the scanner's temp directory must be on tmpfs"
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 or later is needed (EPOCHREALTIME)"

# Pinning: every scanning process (okurud's worker, okuructl and its
# worker, clamscan) on CPU 1; okurud itself (which answers the polls, each a
# TLS handshake: ~4 % of a core), curl and this script on CPU 0. So each
# scan has a core to itself, the same one for all; --no-pin leaves
# placement to the kernel.
SCN_PFX=()
CLI_PFX=()
PINNED=0
PINDESC="not pinned"
if [ "$PIN" -eq 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
	SCN_PFX=(taskset -c 1)
	CLI_PFX=(taskset -c 0)
	PINNED=1
	PINDESC="okurud's worker, okuructl (+ worker) and clamscan on CPU 1; okurud, curl and polling on CPU 0"
fi

# ---- work directory, clean-up ------------------------------------------

W=$(mktemp -d "$TMPBASE/okuru-bench.XXXXXX")
chmod 700 "$W"
SHM=$(mktemp -d /dev/shm/okuru-bench.XXXXXX)
chmod 700 "$SHM"
OKPID=""

stop_okurud() {
	if [ -n "$OKPID" ] && kill -0 "$OKPID" 2>/dev/null; then
		kill -TERM "$OKPID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$OKPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$OKPID" 2>/dev/null || true
		wait "$OKPID" 2>/dev/null || true
	fi
	OKPID=""
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_okurud
	# after the report (an exit 1 for a missed detection) the logs add nothing
	if [ "$rc" -ne 0 ] && [ -z "${REPORTED:-}" ]; then
		for f in "$W/build.log" "$W/okurud.log" "$W/cmd.err"; do
			[ -s "$f" ] && { echo "--- last lines of $f ---" >&2; tail -n 20 "$f" >&2; }
		done
	fi
	if [ "$KEEP" -eq 1 ]; then
		echo "kept $W and $SHM" >&2
	else
		rm -rf "$W" "$SHM"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- disk space --------------------------------------------------------

# the random file, the ZIP members and the ZIP, okurud's blobs of both per
# run, 1 GiB slack; on /dev/shm: a few ZIP members at a time.
need=$((SIZE + 2 * ZIPDATA + RUNS * (SIZE + ZIPDATA) + GIB))
avail=$(($(df -P -k "$W" | awk 'NR==2 {print $4}') * 1024))
[ "$avail" -ge "$need" ] || die "need about $((need / GIB + 1)) GiB free in $TMPBASE, have $((avail / GIB)) GiB"
shm_avail=$(($(df -P -k "$SHM" | awk 'NR==2 {print $4}') * 1024))
[ "$shm_avail" -ge $((MEMBER * 4 + 268435456)) ] || die "too little free space on /dev/shm"

# ---- binaries ----------------------------------------------------------

. "$ROOT/bench/common.sh"
bench_binaries

# ---- helpers -----------------------------------------------------------

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# cpu_ticks PID - "utime stime" of the process (all threads), in clock ticks
cpu_ticks() {
	local f
	f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "0 0"; return; }
	f=${f##*) } # fields from 3 on; comm may contain spaces
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $f
	echo "${12} ${13}"
}

# now - seconds since the epoch, to the microsecond (no fork)
now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f\n", b - a }'; }

# med VALUES... - the median
med() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f\n", m }'
}
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mbps() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s / 1e6; else print "n/a" }'; }

# eicar - the EICAR test string (scripts/eicar.sh assembles it at run time)
eicar() { sh "$ROOT/scripts/eicar.sh"; }

# ---- signature database ------------------------------------------------

SIGS="$W/sigs"
mkdir -p "$SIGS"
info "work dir $W ($(df -P -h "$W" | awk 'NR==2 {print $4}') free), scanner temp dir $SHM"
info "generating the signature database: $NHDB MD5 + $NNDB body signatures + EICAR"
eicar >"$W/eicar.com"
head -c 4096 /dev/urandom >"$W/marker.bin"
# .hdb: random MD5s with random sizes (1 KiB..64 MiB, never the size of a
# benchmark file or ZIP member), and the marker file's real MD5 so that a
# hash detection can be checked.
# .ndb: random 16-32 byte patterns at any offset of any file type (static
# patterns: libclamav's Boyer-Moore matcher; every scan also runs the
# Aho-Corasick matcher with libclamav's built-in file-type patterns).
python3 - "$SIGS" "$NHDB" "$NNDB" "$SIZE" "$MEMBER" <<'PYEOF'
import os, random, sys
d, nh, nn, size, member = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rnd = random.SystemRandom()
avoid = {size, member, 2097152}
with open(os.path.join(d, "okuru-bench.hdb"), "w") as f:
    for i in range(nh):
        sz = rnd.randint(1024, 64 << 20)
        while sz in avoid:
            sz += 1
        f.write("%s:%d:Okuru.Bench.Hash.%d\n" % (os.urandom(16).hex(), sz, i))
with open(os.path.join(d, "okuru-bench.ndb"), "w") as f:
    for i in range(nn):
        f.write("Okuru.Bench.Body.%d:0:*:%s\n" % (i, os.urandom(rnd.randint(16, 32)).hex()))
PYEOF
sigtool --md5 "$W/marker.bin" | sed 's/:marker.bin$/:Okuru.Bench.Marker/' >>"$SIGS/okuru-bench.hdb"
grep -q ':Okuru.Bench.Marker$' "$SIGS/okuru-bench.hdb" || die "sigtool did not make the marker signature"
echo "Okuru.Bench.EICAR:0:*:$(od -An -tx1 -v "$W/eicar.com" | tr -d ' \n')" >"$SIGS/okuru-bench-eicar.ndb"
NSIGS=$(cat "$SIGS"/*.hdb "$SIGS"/*.ndb | wc -l)
info "signature database: $NSIGS signatures in $(ls "$SIGS" | wc -l) files ($(du -sh "$SIGS" | cut -f1))"

# ---- the data ----------------------------------------------------------

BIGF="$W/clean.bin"
ZIPF="$W/clean.zip"
DEEPZ="$W/deep.zip"
EMPTY="$W/empty.bin"
: >"$EMPTY"
info "making a ${SIZE_MIB} MiB random file"
head -c "$SIZE" /dev/urandom >"$BIGF"
[ "$(stat -c %s "$BIGF")" -eq "$SIZE" ] || die "short random file"
info "making a ZIP of $ZIP_FILES random files of $ZIP_MEMBER_MIB MiB"
mkdir -p "$W/zipsrc"
for i in $(seq -w 1 "$ZIP_FILES"); do
	head -c "$MEMBER" /dev/urandom >"$W/zipsrc/part$i.bin"
done
# zip's defaults, as a user's zip: deflate (random data does not shrink; the
# members are deflate streams of stored blocks).
(cd "$W/zipsrc" && zip -q "$ZIPF" part*.bin) || die "zip failed"
rm -rf "$W/zipsrc"
ZIPSIZE=$(stat -c %s "$ZIPF")
ZIPMETHODS=$(unzip -v "$ZIPF" | awk 'NR > 3 && $2 ~ /^[A-Z][a-z]/ { print $2 }' | sort | uniq -c |
	awk '{ printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2 }')
# Completeness check: EICAR in a deflated member (zeros around it, so that
# its bytes appear nowhere in the archive as such) after four 2 MiB random
# members and before four more; only a scanner that extracts that member
# finds it.
mkdir -p "$W/deepsrc"
for i in 1 2 3 4 5 6 7 8; do head -c 2097152 /dev/urandom >"$W/deepsrc/part$i.bin"; done
{ head -c 262144 /dev/zero; cat "$W/eicar.com"; head -c 262144 /dev/zero; } >"$W/deepsrc/part4x.bin"
(cd "$W/deepsrc" && zip -q "$DEEPZ" part1.bin part2.bin part3.bin part4.bin part4x.bin \
	part5.bin part6.bin part7.bin part8.bin) || die "zip failed"
rm -rf "$W/deepsrc"
if grep -q 'EICAR-STANDARD' "$DEEPZ"; then die "deep.zip shows the EICAR bytes: the check would prove nothing"; fi

# ---- okuru set-up ------------------------------------------------------

DATA="$W/data"
CONF="$DATA/okuru.conf"
OKPORT=$(free_port)
OKURL="https://localhost:$OKPORT"
CERT="$DATA/tls/cert.pem"

"$OKURUCTL" init --data-dir "$DATA" --listen "127.0.0.1:$OKPORT" --clamav-db "$SIGS" \
	--allow-test-signatures --scanner "$SCANNER" >/dev/null

# The same limits as clamscan's command line below.
conf_set clamav max_file_size '"2000M"'
conf_set clamav max_scan_size '"4000M"'
conf_set clamav max_files 10000
conf_set clamav max_recursion 17
conf_set scanner workers 1
conf_set scanner timeout 600
conf_set scanner tmpdir "\"$SHM\""
conf_set scanner program "\"$SCANNER\""
TOKEN=$("$OKURUCTL" -c "$CONF" user add bench --email bench@bench.example --role sender | tail -n 1)
[ -n "$TOKEN" ] || die "no API token"
AUTH=(-H "Authorization: Bearer $TOKEN")

# clamscan with okuru's limits and fail-closed heuristics; its temp files go
# to the same tmpfs as the worker's (clamscan's default is $TMPDIR or /tmp).
mkdir -p "$SHM/clamscan"
CLAMSCAN=(clamscan "--database=$SIGS" --max-filesize=2000M --max-scansize=4000M
	--max-files=10000 --max-recursion=17 --alert-exceeds-max --alert-encrypted
	--heuristic-alerts "--tempdir=$SHM/clamscan")
OKSCAN=("$OKURUCTL" -c "$CONF" scan --database "$SIGS" --allow-test-signatures)

health() {
	curl -sS --cacert "$CERT" "$OKURL/healthz"
}

worker_pid() {
	pgrep -P "$OKPID" -f okuru-scanner | head -n 1
}

# start_okurud - start it, wait until its worker has loaded the engine, pin
# the worker to the scan CPU; sets WPID, W_RSS_START, W_HWM_START
start_okurud() {
	"${CLI_PFX[@]}" "$OKURUD" -c "$CONF" >>"$W/okurud.log" 2>&1 &
	OKPID=$!
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null --cacert "$CERT" "$OKURL/healthz" 2>/dev/null; then
			break
		fi
		kill -0 "$OKPID" 2>/dev/null || die "okurud exited during start-up"
		sleep 0.1
	done
	for _ in $(seq 1 1200); do
		case "$(health 2>/dev/null)" in *'"workers":1,'*) break ;; esac
		kill -0 "$OKPID" 2>/dev/null || die "okurud exited during start-up"
		sleep 0.1
	done
	case "$(health)" in *'"workers":1,'*) ;; *) die "okurud's scanner worker did not become ready: $(health)" ;; esac
	WPID=$(worker_pid)
	[ -n "$WPID" ] || die "no okuru-scanner child of okurud $OKPID"
	if [ "$PINNED" -eq 1 ]; then
		taskset -a -p -c 1 "$WPID" >/dev/null || die "cannot pin the worker $WPID to CPU 1"
	fi
	W_RSS_START=$(vm_kib "$WPID" VmRSS)
	W_HWM_START=$(vm_kib "$WPID" VmHWM)
}

# libclamav's "fmap_readpage: ..." warnings: it could not get part of the
# file it was reading, so that part went unscanned. The worker logs them
# (to okurud.log, or to okuructl's stderr).
readfail_count() { # FILE
	grep -c 'fmap_readpage' "$1" 2>/dev/null || true
}

json_file() { # EXPR < transfer JSON - EXPR on the only file (as f)
	python3 -c 'import json,sys; f=json.load(sys.stdin)["files"][0]; print(eval(sys.argv[1]))' "$1"
}

# daemon_scan FILE NAME - upload to a new transfer, poll until scanned.
# Sets D_STATE, D_MS (the worker's duration_ms), D_WAIT (s, from the end of
# the upload to the verdict seen by the poll), D_UP (s, upload), D_CPU (the
# worker's CPU s, user/sys), D_DETAIL, D_RF (libclamav read failures logged)
daemon_scan() {
	local f=$1 name=$2 tid body code t0 t1 c0 c1 wp rf0 u0 s0 u1 s1
	tid=$(curl -sS --cacert "$CERT" "${AUTH[@]}" -X POST -H 'Content-Type: application/json' \
		-d '{"subject":"bench"}' "$OKURL/api/v1/transfers" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
		die "could not create a transfer"
	wp=$(worker_pid)
	[ -n "$wp" ] || die "no scanner worker under okurud"
	c0=$(cpu_ticks "$wp")
	rf0=$(readfail_count "$W/okurud.log")
	t0=$(now)
	code=$("${CLI_PFX[@]}" curl -sS --max-time 900 --cacert "$CERT" "${AUTH[@]}" -T "$f" \
		-o "$W/up.body" -w '%{http_code}' "$OKURL/api/v1/transfers/$tid/files/$name") ||
		die "upload of $name failed"
	[ "$code" = 201 ] || die "upload of $name: HTTP $code: $(cat "$W/up.body")"
	t1=$(now)
	D_UP=$(sub "$t1" "$t0")
	while :; do
		body=$("${CLI_PFX[@]}" curl -sS --cacert "$CERT" "${AUTH[@]}" "$OKURL/api/v1/transfers/$tid") ||
			die "GET transfer failed"
		case "$body" in
		*'"state":"uploaded"'* | *'"state":"scanning"'*) ;;
		*'"files":[{'*'"state":"'*) break ;;
		*) die "unexpected transfer JSON: $body" ;;
		esac
		[ "$(since "$t1" | cut -d. -f1)" -lt 900 ] || die "$name not scanned after 900 s"
		sleep 0.02
	done
	D_WAIT=$(since "$t1")
	c1=$(cpu_ticks "$wp")
	D_STATE=$(json_file 'f["state"]' <<<"$body")
	D_MS=$(json_file 'f["scan"]["duration_ms"] if f["scan"] else -1' <<<"$body")
	D_DETAIL=$(json_file '(f["scan"] or {}).get("signature", (f["scan"] or {}).get("message", ""))' <<<"$body")
	read -r u0 s0 <<<"$c0"
	read -r u1 s1 <<<"$c1"
	D_CPU=$(awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$HZ" 'BEGIN { printf "%.2f/%.2f", u / hz, s / hz }')
	[ "$(worker_pid)" = "$wp" ] || info "note: the worker was replaced during the scan of $name"
	D_RF=$(($(readfail_count "$W/okurud.log") - rf0))
}

# timed CMD... - run CMD on the scan CPU; sets T_WALL (s), T_RSS (KiB, max
# RSS of CMD or of a waited-for child: for okuructl, its worker), T_CPU
# (user/sys s, CMD and its children), T_RC; stdout in $W/cmd.out, stderr
# in $W/cmd.err
timed() {
	local t0 tu ts
	t0=$(now)
	set +e
	/usr/bin/time -f '%M %U %S' -o "$W/cmd.time" "${SCN_PFX[@]}" "$@" >"$W/cmd.out" 2>"$W/cmd.err"
	T_RC=$?
	set -e
	T_WALL=$(since "$t0")
	read -r T_RSS tu ts <"$W/cmd.time" || die "no /usr/bin/time output for $*"
	T_CPU="$tu/$ts"
}

# okuructl_scan FILE - sets T_*, T_RF; requires "FILE: clean" (and any detected type)
okuructl_scan() {
	local out
	timed "${OKSCAN[@]}" "$1"
	out=$(cat "$W/cmd.out")
	case "$T_RC:$out" in
	"0:$1: clean" | "0:$1: clean type="* | "0:$1: clean empty file" | "0:$1: clean empty file type="*) ;;
	*) die "okuructl scan $1: exit $T_RC: $out $(cat "$W/cmd.err")" ;;
	esac
	T_RF=$(readfail_count "$W/cmd.err")
}

# clamscan_scan FILE - sets T_*; requires "FILE: OK" (or "Empty file")
clamscan_scan() {
	timed "${CLAMSCAN[@]}" "$1"
	[ "$T_RC" -eq 0 ] || die "clamscan $1: exit $T_RC: $(cat "$W/cmd.out" "$W/cmd.err")"
	grep -qxF -e "$1: OK" -e "$1: Empty file" "$W/cmd.out" ||
		die "clamscan $1: no clean verdict: $(cat "$W/cmd.out")"
	grep -q '^Infected files: 0$' "$W/cmd.out" || die "clamscan $1: $(cat "$W/cmd.out")"
}

# ---- start, engine-only figures ----------------------------------------

start_okurud
W_RSS0=$W_RSS_START
W_HWM0=$W_HWM_START
HEALTH=$(health)
OK_SIGS=$(python3 -c 'import json,sys; s=json.load(sys.stdin)["scanner"]; print(s["signatures"])' <<<"$HEALTH")
OK_ENGINE=$(python3 -c 'import json,sys; s=json.load(sys.stdin)["scanner"]; print("%s, %s database, sandbox %s" % (s["engine"], s["database"], s["sandbox"]))' <<<"$HEALTH")

# ---- sanity: EICAR and the marker are found by both --------------------

info "sanity check: EICAR and the MD5 marker, through okurud, okuructl scan and clamscan"
daemon_scan "$W/eicar.com" eicar.com
[ "$D_STATE" = infected ] || die "okurud: EICAR scanned as $D_STATE"
case "$D_DETAIL" in Okuru.Bench.EICAR*) ;; *) die "okurud: EICAR found as '$D_DETAIL'" ;; esac
SANITY_OKD="eicar.com: infected $D_DETAIL"
timed "${OKSCAN[@]}" "$W/eicar.com" "$W/marker.bin"
[ "$T_RC" -eq 1 ] || die "okuructl scan: exit $T_RC for EICAR + marker: $(cat "$W/cmd.out" "$W/cmd.err")"
grep -q "^$W/eicar.com: infected Okuru.Bench.EICAR" "$W/cmd.out" || die "okuructl scan missed EICAR: $(cat "$W/cmd.out")"
grep -q "^$W/marker.bin: infected Okuru.Bench.Marker" "$W/cmd.out" || die "okuructl scan missed the marker: $(cat "$W/cmd.out")"
SANITY_OKC=$(sed "s|^$W/||" "$W/cmd.out" | paste -sd ';' | sed 's/;/; /g')
timed "${CLAMSCAN[@]}" "$W/eicar.com" "$W/marker.bin"
[ "$T_RC" -eq 1 ] || die "clamscan: exit $T_RC for EICAR + marker: $(cat "$W/cmd.out" "$W/cmd.err")"
grep -q "^$W/eicar.com: Okuru.Bench.EICAR.* FOUND$" "$W/cmd.out" || die "clamscan missed EICAR: $(cat "$W/cmd.out")"
grep -q "^$W/marker.bin: Okuru.Bench.Marker.* FOUND$" "$W/cmd.out" || die "clamscan missed the marker: $(cat "$W/cmd.out")"
SANITY_CS=$(grep ' FOUND$' "$W/cmd.out" | sed "s|^$W/||" | paste -sd ';' | sed 's/;/; /g')
CS_SIGS=$(sed -n 's/^Known viruses: //p' "$W/cmd.out")
CS_VERSION=$(clamscan --version | cut -d/ -f1)

info "completeness check: EICAR inside a deflated member in the middle of a $(($(stat -c %s "$DEEPZ") / 1048576)) MiB ZIP"
FAILS=()
timed "${CLAMSCAN[@]}" "$DEEPZ"
grep -q "^$DEEPZ: Okuru.Bench.EICAR.* FOUND$" "$W/cmd.out" ||
	die "clamscan did not find EICAR in deep.zip (the check itself is broken): $(cat "$W/cmd.out")"
DEEP_CS=$(sed -n "s|^$DEEPZ: \(.*\)$|\1|p" "$W/cmd.out")
daemon_scan "$DEEPZ" deep.zip
DEEP_OKD="$D_STATE${D_DETAIL:+ $D_DETAIL}, $D_RF libclamav read failures logged"
[ "$D_STATE" = infected ] || FAILS+=("okurud scanned deep.zip as $D_STATE, clamscan finds $DEEP_CS")
timed "${OKSCAN[@]}" "$DEEPZ"
DEEP_OKC="$(sed -n "s|^$DEEPZ: ||p" "$W/cmd.out"), $(readfail_count "$W/cmd.err") libclamav read failures logged"
grep -q "^$DEEPZ: infected Okuru.Bench.EICAR" "$W/cmd.out" ||
	FAILS+=("okuructl scan gave deep.zip: $(sed -n "s|^$DEEPZ: ||p" "$W/cmd.out"), clamscan finds $DEEP_CS")

# ---- the runs ----------------------------------------------------------

declare -A A # A[key] = " v1 v2 ..."
add() { A[$1]="${A[$1]:-} $2"; }

for run in $(seq 1 "$RUNS"); do
	info "run $run/$RUNS"
	# a fresh worker: an empty clean-file cache, like a first upload
	stop_okurud
	start_okurud
	add okd.rss0 "$W_RSS_START"
	# engine load alone: both scanners on an empty file
	okuructl_scan "$EMPTY"
	add okc.load "$T_WALL"
	add okc.load.rss "$T_RSS"
	clamscan_scan "$EMPTY"
	add cs.load "$T_WALL"
	add cs.load.rss "$T_RSS"
	for k in big zip; do
		if [ "$k" = big ]; then f=$BIGF; else f=$ZIPF; fi
		daemon_scan "$f" "run$run.$(basename "$f")"
		[ "$D_STATE" = clean ] || die "okurud: $(basename "$f") scanned as $D_STATE ($D_DETAIL)"
		add "okd.$k.ms" "$D_MS"
		add "okd.$k.wait" "$D_WAIT"
		add "okd.$k.up" "$D_UP"
		add "okd.$k.cpu" "$D_CPU"
		add "okd.$k.rf" "$D_RF"
		okuructl_scan "$f"
		add "okc.$k" "$T_WALL"
		add "okc.$k.rss" "$T_RSS"
		add "okc.$k.cpu" "$T_CPU"
		add "okc.$k.rf" "$T_RF"
		clamscan_scan "$f"
		add "cs.$k" "$T_WALL"
		add "cs.$k.rss" "$T_RSS"
		add "cs.$k.cpu" "$T_CPU"
	done
	W_RSS1=$(vm_kib "$WPID" VmRSS)
	W_HWM1=$(vm_kib "$WPID" VmHWM)
	[ "$(worker_pid)" = "$WPID" ] || die "okurud's worker was replaced during run $run"
done

# ---- report ------------------------------------------------------------

m() { # KEY - median of A[KEY]
	# shellcheck disable=SC2086 # the values, split on purpose
	med ${A[$1]}
}
runs_of() { echo "${A[$1]# }"; }
sum_of() { # KEY - sum of A[KEY]
	# shellcheck disable=SC2086
	printf '%s\n' ${A[$1]} | awk '{ s += $1 } END { print s + 0 }'
}
okc_load=$(m okc.load)
cs_load=$(m cs.load)

REPORTED=1
echo
say "okuru scan benchmark - $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "okuru:      $SRCDESC; $OK_ENGINE"
say "clamscan:   $CS_VERSION ($(command -v clamscan))"
say "machine:    $(nproc) CPUs ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r)"
say "placing:    $PINDESC"
say "signatures: $NSIGS generated: $NHDB MD5 (.hdb) + 1 marker MD5, $NNDB body (.ndb, 16-32 random bytes at any offset), EICAR (.ndb)"
say "            loaded by okuru: $OK_SIGS, by clamscan: $CS_SIGS (the same directory)"
say "files:      clean.bin = $SIZE bytes (${SIZE_MIB} MiB) from /dev/urandom"
say "            clean.zip = $ZIPSIZE bytes: $ZIP_FILES members of ${ZIP_MEMBER_MIB} MiB random ($ZIPMETHODS); all page-cached"
say "limits:     max file 2000M, max scan 4000M, 10000 files, recursion 17, exceeds-max and encrypted alerts on (both)"
say "clamscan:   $(printf '%s ' "${CLAMSCAN[@]}" | sed -e "s|$SIGS|SIGDIR|" -e "s|$SHM|SHMDIR|")FILE"
say "sanity:     okurud: $SANITY_OKD; okuructl scan: $SANITY_OKC"
say "            clamscan: $SANITY_CS"
say "deep.zip:   EICAR in a deflated member in the middle: clamscan: $DEEP_CS"
say "            okurud: $DEEP_OKD"
say "            okuructl scan: $DEEP_OKC"
say "runs:       $RUNS, interleaved, okurud restarted before each; medians; times in seconds"
echo
say "engine load alone (empty file): okuructl scan $okc_load s, clamscan $cs_load s"
echo
printf '%-9s %11s %11s %9s %9s %9s %9s %7s %7s\n' file "okurud scan" "okurud" okuructl clamscan clamscan clamscan ratio ratio
printf '%-9s %11s %11s %9s %9s %9s %9s %7s %7s\n' "" duration_ms "to verdict" wall wall wall-load "MB/s" scan wall
for k in big zip; do
	if [ "$k" = big ]; then lbl=clean.bin; bytes=$SIZE; else lbl=clean.zip; bytes=$ZIPSIZE; fi
	dms=$(awk -v v="$(m "okd.$k.ms")" 'BEGIN { printf "%.3f", v / 1000 }')
	csw=$(m "cs.$k")
	css=$(sub "$csw" "$cs_load")
	printf '%-9s %11s %11s %9s %9s %9s %9s %7s %7s\n' "$lbl" "$dms" "$(m "okd.$k.wait")" \
		"$(m "okc.$k")" "$csw" "$css" "$(mbps "$bytes" "$css")" "$(ratio "$dms" "$css")" \
		"$(ratio "$(m "okc.$k")" "$csw")"
done
say "  ratio scan = okurud duration_ms / (clamscan wall - clamscan load); ratio wall = okuructl wall / clamscan wall"
say "  target: both <= 1.10"
cpu_tot() { # KEY - median over runs of user+sys
	# shellcheck disable=SC2046,SC2086 # the values, split on purpose
	med $(printf '%s\n' ${A[$1]} | awk -F/ '{ print $1 + $2 }')
}
for k in big zip; do
	if [ "$k" = big ]; then lbl=clean.bin; else lbl=clean.zip; fi
	say "  $lbl CPU s (user+sys), median: okurud worker $(cpu_tot "okd.$k.cpu"), okuructl + worker $(cpu_tot "okc.$k.cpu"), clamscan $(cpu_tot "cs.$k.cpu") (the last two with engine load); ratio worker/clamscan $(ratio "$(cpu_tot "okd.$k.cpu")" "$(cpu_tot "cs.$k.cpu")")"
done
for k in big zip; do
	if [ "$k" = big ]; then lbl=clean.bin; else lbl=clean.zip; fi
	rfd=$(sum_of "okd.$k.rf")
	rfc=$(sum_of "okc.$k.rf")
	if [ "$rfd" -gt 0 ] || [ "$rfc" -gt 0 ]; then
		say "  WARNING $lbl: libclamav could not re-read parts of the file in okuru's worker ($rfd times in okurud, $rfc in okuructl scan, over $RUNS runs): those parts were NOT scanned, and the okuru figures for $lbl measure less work than clamscan's"
	fi
done
echo
say "per run:"
for k in big zip; do
	say "  $k: okurud duration_ms $(runs_of "okd.$k.ms"); to verdict $(runs_of "okd.$k.wait"); upload $(runs_of "okd.$k.up")"
	say "  $k: okuructl wall $(runs_of "okc.$k"); clamscan wall $(runs_of "cs.$k")"
	say "  $k: CPU s user/sys: okurud worker $(runs_of "okd.$k.cpu"); okuructl + worker $(runs_of "okc.$k.cpu"); clamscan $(runs_of "cs.$k.cpu")"
	say "  $k: libclamav read failures: okurud $(runs_of "okd.$k.rf"); okuructl scan $(runs_of "okc.$k.rf")"
done
say "  load: okuructl $(runs_of okc.load); clamscan $(runs_of cs.load)"
echo
say "memory (KiB):"
say "  okurud's worker, engine loaded, before any scan: VmRSS $W_RSS0 ($(mib "$W_RSS0") MiB), VmHWM $W_HWM0 ($(mib "$W_HWM0") MiB)"
say "  okurud's worker after the last run's scans (clean.bin, clean.zip): VmRSS $W_RSS1 ($(mib "$W_RSS1") MiB), VmHWM $W_HWM1 ($(mib "$W_HWM1") MiB)"
say "  okuructl scan, max RSS of okuructl or its worker (time %M), median: empty $(m okc.load.rss | cut -d. -f1), clean.bin $(m okc.big.rss | cut -d. -f1), clean.zip $(m okc.zip.rss | cut -d. -f1)"
say "  clamscan max RSS (time %M), median: empty (engine only) $(m cs.load.rss | cut -d. -f1), clean.bin $(m cs.big.rss | cut -d. -f1), clean.zip $(m cs.zip.rss | cut -d. -f1)"
echo
say "elapsed: ${SECONDS} s"
if [ ${#FAILS[@]} -gt 0 ]; then
	echo
	for f in "${FAILS[@]}"; do say "FAIL: $f"; done
	say "FAIL: okuru missed malware that clamscan finds with the same database: its 'clean' verdicts are not comparable"
	exit 1
fi
