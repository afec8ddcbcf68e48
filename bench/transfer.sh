#!/usr/bin/env bash
# bench/transfer.sh - transfer throughput and memory of okurud against nginx.
#
# Not a test: it prints figures. Builds okurud without sanitizers from the
# committed tree (or uses --bin DIR), makes a random file, then with the same
# client (curl), the same file, on the same machine and in the same run:
#   - uploads it to okurud (PUT .../files/NAME) and to nginx (WebDAV PUT),
#   - downloads it from both (timed to /dev/null; one extra, untimed
#     download per server is written to disk and its SHA-256 checked),
#   - reports MB/s (MB = 10^6 bytes), best and median of --runs runs,
#     the ratio okurud/nginx, CPU seconds per GiB of both servers,
#   - reads okurud's peak RSS (VmHWM) after those runs, then starts a fresh
#     okurud, streams a --big-gib file to it (chunked) and downloads it back,
#     and reads VmHWM again.
# Every upload is virus-scanned before okurud lets it be downloaded: the
# script waits for the verdict (a small test signature database built here,
# scan limits raised to libclamav's maximum) before the next timed step, so
# the scan never competes with a measurement. The scan itself is measured by
# bench/scan.sh.
# All traffic is to 127.0.0.1; everything lives in one temporary directory
# that is removed on exit, and both daemons are stopped on exit.
#
# Usage: bash bench/transfer.sh [--bin DIR] [--runs N] [--size-mib N]
#                               [--big-gib N] [--no-pin] [--keep]
# See bench/README.md.
set -euo pipefail

RUNS=3
SIZE_MIB=1024
BIG_GIB=3 # libclamav scans files below 4000 MiB: anything larger is unscannable
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
	--big-gib) BIG_GIB=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--no-pin) PIN=0; shift ;;
	-h | --help) usage 0 ;;
	*) echo "transfer.sh: unknown argument: $1" >&2; usage 2 ;;
	esac
done
for v in RUNS SIZE_MIB BIG_GIB; do
	case "${!v}" in '' | *[!0-9]*) echo "transfer.sh: $v must be a whole number" >&2; exit 2 ;; esac
done
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 10 ] || { echo "transfer.sh: --runs must be 1..10" >&2; exit 2; }
[ "$SIZE_MIB" -ge 1 ] && [ "$SIZE_MIB" -le 8192 ] || { echo "transfer.sh: --size-mib must be 1..8192" >&2; exit 2; }
[ "$BIG_GIB" -le 3 ] || { echo "transfer.sh: --big-gib must be 0..3 (files of 4000 MiB or more are unscannable, so never downloadable)" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMPBASE=${TMPDIR:-/tmp}
SIZE=$((SIZE_MIB * 1024 * 1024))
BIG=$((BIG_GIB * 1024 * 1024 * 1024))
GIB=1073741824
HZ=$(getconf CLK_TCK)

say() { printf '%s\n' "$*"; }
info() { printf '# %s\n' "$*"; }
die() { printf 'transfer.sh: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites -----------------------------------------------------

need_pkgs=()
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_pkgs+=(nginx)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	info "installing missing Debian packages: ${need_pkgs[*]}"
	[ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}" >/dev/null ||
		die "apt-get install ${need_pkgs[*]} failed"
fi
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
NGINX_V=$("$NGINX" -V 2>&1)
case "$NGINX_V" in *--with-http_ssl_module*) ;; *) die "nginx lacks http_ssl_module" ;; esac
case "$NGINX_V" in *--with-http_dav_module*) ;; *) die "nginx lacks http_dav_module" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root (nginx runs as root with a private prefix)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed (free port, JSON)"

# Pinning: the server (okurud, or nginx's master and worker) on CPU 0, the
# client (curl) on CPU 1, so that each gets one core and the scheduler does
# not move them about; --no-pin leaves placement to the kernel.
SRV_PFX=()
CLI_PFX=()
PINDESC="not pinned"
if [ "$PIN" -eq 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
	SRV_PFX=(taskset -c 0)
	CLI_PFX=(taskset -c 1)
	PINDESC="server pinned to CPU 0, curl to CPU 1"
fi

# ---- work directory, clean-up ------------------------------------------

W=$(mktemp -d "$TMPBASE/okuru-bench.XXXXXX")
chmod 700 "$W"
OKPID=""
NGPIDFILE="$W/nginx/nginx.pid"

stop_okurud() {
	if [ -n "$OKPID" ] && kill -0 "$OKPID" 2>/dev/null; then
		kill -TERM "$OKPID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$OKPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$OKPID" 2>/dev/null || true
		wait "$OKPID" 2>/dev/null || true
	fi
	OKPID=""
}

stop_nginx() {
	local p
	[ -f "$NGPIDFILE" ] || return 0
	p=$(cat "$NGPIDFILE" 2>/dev/null || true)
	case "$p" in '' | *[!0-9]*) return 0 ;; esac
	if kill -0 "$p" 2>/dev/null; then
		kill -QUIT "$p" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	fi
	rm -f "$NGPIDFILE"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_okurud
	stop_nginx
	if [ "$rc" -ne 0 ]; then
		for f in "$W/build.log" "$W/okurud.log" "$W/nginx/logs/error.log"; do
			[ -s "$f" ] && { echo "--- last lines of $f ---" >&2; tail -n 20 "$f" >&2; }
		done
	fi
	[ -n "${SCANTMP:-}" ] && rm -rf "$SCANTMP"
	if [ "$KEEP" -eq 1 ]; then
		echo "kept $W" >&2
	else
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- disk space --------------------------------------------------------

# source + okurud blobs (runs + verify) + nginx copy (x2 while renaming)
# + one verification download + the big blob + 1 GiB slack.
need=$((SIZE * (RUNS + 5) + BIG + GIB))
avail=$(($(df -P -k "$W" | awk 'NR==2 {print $4}') * 1024))
if [ "$avail" -lt "$need" ]; then
	if [ "$avail" -ge $((need - BIG)) ] && [ "$BIG" -gt 0 ]; then
		info "only $((avail / GIB)) GiB free: skipping the ${BIG_GIB} GiB run"
		BIG_GIB=0
		BIG=0
	else
		die "need about $((need / GIB + 1)) GiB free in $TMPBASE, have $((avail / GIB)) GiB"
	fi
fi

# ---- binaries ----------------------------------------------------------

. "$ROOT/bench/common.sh"
bench_binaries

# ---- helpers -----------------------------------------------------------

# cpu_ticks PID... - "utime stime" of the processes (all threads), in clock ticks
cpu_ticks() {
	local u=0 s=0 p f
	for p in "$@"; do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		f=${f##*) } # fields from 3 on; comm may contain spaces
		# shellcheck disable=SC2086 # split into fields on purpose
		set -- $f
		u=$((u + ${12}))
		s=$((s + ${13}))
	done
	echo "$u $s"
}

json_get() { # KEY < json
	python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

mbps() { # BYTES SECONDS
	awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / s / 1e6; else print "nan" }'
}

# stats VALUES... -> "best median"
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f\n", v[NR], m }'
}

# per_gib "U0 S0" "U1 S1" BYTES -> "total/user/sys" CPU seconds per GiB
per_gib() {
	awk -v a="$1" -v b="$2" -v hz="$HZ" -v s="$3" 'BEGIN {
		split(a, x, " "); split(b, y, " "); g = s / 1073741824
		u = (y[1] - x[1]) / hz / g; k = (y[2] - x[2]) / hz / g
		printf "%.2f/%.2f/%.2f", u + k, u, k }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'
}

# timed_curl OUTFILE-PREFIX curl-args... : runs curl once, writes
# "code bytes_up bytes_down time_total" to PREFIX.w, body to PREFIX.body,
# and the client's user+sys seconds to PREFIX.cpu
timed_curl() {
	local pre=$1
	shift
	local TIMEFORMAT='%U %S'
	{ time "${CLI_PFX[@]}" curl -sS --max-time 900 -w '%{http_code} %{size_upload} %{size_download} %{time_total}\n' \
		"$@" >"$pre.w" 2>"$pre.err"; } 2>"$pre.time" || {
		cat "$pre.err" >&2
		die "curl failed: $*"
	}
	awk '{ printf "%.2f\n", $1 + $2 }' "$pre.time" >"$pre.cpu"
}

# ---- set-up: okurud ----------------------------------------------------

DATA="$W/data"
CONF="$DATA/okuru.conf"
OKPORT=$(free_port)
OKURL="https://localhost:$OKPORT"
CERT="$DATA/tls/cert.pem"
KEY="$DATA/tls/key.pem"

# A test signature database (EICAR, assembled here), and the scanner's temp
# directories on tmpfs.
test_sigs "$W/sigs" Bench.EICAR
SCANTMP=$(mktemp -d /dev/shm/okuru-bench.XXXXXX)
"$OKURUCTL" init --data-dir "$DATA" --listen "127.0.0.1:$OKPORT" --clamav-db "$W/sigs" \
	--allow-test-signatures --scanner "$SCANNER" >/dev/null
# Every size up to libclamav's 4000 MiB maximum is taken and scanned.
conf_set limits max_file_size '"4000M"'
conf_set clamav max_file_size '"4000M"'
conf_set scanner tmpdir "\"$SCANTMP\""
conf_set scanner timeout 3000
conf_set scanner cpu_limit 7200
TOKEN=$("$OKURUCTL" -c "$CONF" user add bench --email bench@bench.example --role sender | tail -n 1)
[ -n "$TOKEN" ] || die "no API token"
AUTH=(-H "Authorization: Bearer $TOKEN")

start_okurud() {
	"${SRV_PFX[@]}" "$OKURUD" -c "$CONF" >>"$W/okurud.log" 2>&1 &
	OKPID=$!
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null --cacert "$CERT" "$OKURL/healthz" 2>/dev/null; then
			return 0
		fi
		kill -0 "$OKPID" 2>/dev/null || die "okurud exited during start-up"
		sleep 0.1
	done
	die "okurud did not answer /healthz"
}

new_transfer() {
	curl -sS --cacert "$CERT" "${AUTH[@]}" -X POST "$OKURL/api/v1/transfers" | json_get id
}

# wait_clean TID FID - the scan must pass before the file can be downloaded;
# waiting also keeps the scanner off the CPUs during the next measurement.
wait_clean() {
	local st
	for _ in $(seq 1 6000); do
		st=$(curl -sS --cacert "$CERT" "${AUTH[@]}" "$OKURL/api/v1/transfers/$1" |
			python3 -c 'import json,sys; j=json.load(sys.stdin); print([f["state"] for f in j["files"] if f["id"]==sys.argv[1]][0])' "$2")
		case $st in
		clean) return 0 ;;
		uploaded | scanning) sleep 0.2 ;;
		*) die "file $2 scanned as $st" ;;
		esac
	done
	die "file $2 not scanned after 20 minutes"
}

# ---- set-up: nginx -----------------------------------------------------

NG="$W/nginx"
NGPORT=$(free_port)
NGURL="https://localhost:$NGPORT"
mkdir -p "$NG/logs" "$NG/tmp/body" "$NG/tmp/proxy" "$NG/tmp/fastcgi" "$NG/tmp/uwsgi" \
	"$NG/tmp/scgi" "$NG/dav/put" "$W/files"

# kTLS: nginx >= 1.21.4 with OpenSSL 3 can hand TLS to the kernel and then
# use sendfile(); it needs the kernel's "tls" ULP. Offer it only if present.
KTLS_LINE="# kTLS not offered: the kernel lists no \"tls\" ULP"
KTLS_NOTE="no kernel TLS (no \"tls\" in tcp_available_ulp): nginx disables sendfile on TLS connections and SSL_write()s from its output buffers"
if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null; then
	KTLS_LINE="ssl_conf_command Options KTLS;"
	KTLS_NOTE="kernel TLS available and enabled in nginx (sendfile with kTLS); okurud (GnuTLS via MHD) does not use it"
fi

cat >"$NG/nginx.conf" <<EOF
# generated by bench/transfer.sh
user root;
worker_processes 1;
daemon on;
pid $NG/nginx.pid;
error_log $NG/logs/error.log notice;

events {
	worker_connections 64;
}

http {
	access_log $NG/logs/access.log;
	types { }
	default_type application/octet-stream;

	sendfile on;
	tcp_nopush on;

	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;

	server {
		listen 127.0.0.1:$NGPORT ssl;
		server_name localhost;

		ssl_certificate $CERT;
		ssl_certificate_key $KEY;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_prefer_server_ciphers on;
		ssl_ciphers ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305;
		ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256;
		$KTLS_LINE

		location /files/ {
			alias $W/files/;
		}

		location /put/ {
			root $NG/dav;
			dav_methods PUT;
			dav_access user:rw;
			client_max_body_size 0;
		}
	}
}
EOF

start_nginx() {
	"$NGINX" -t -q -e "$NG/logs/error.log" -p "$NG/" -c "$NG/nginx.conf" ||
		die "nginx -t failed for $NG/nginx.conf"
	"${SRV_PFX[@]}" "$NGINX" -e "$NG/logs/error.log" -p "$NG/" -c "$NG/nginx.conf" ||
		die "nginx did not start"
	for _ in $(seq 1 50); do
		if curl -s -o /dev/null --cacert "$CERT" "$NGURL/" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	die "nginx did not answer"
}

nginx_workers() {
	local m
	m=$(cat "$NGPIDFILE")
	cat "/proc/$m/task/$m/children" 2>/dev/null || true
}

# ---- the data ----------------------------------------------------------

SRC="$W/files/src.bin"
info "work dir $W ($(df -P -h "$W" | awk 'NR==2 {print $4}') free)"
info "making a ${SIZE_MIB} MiB random file"
head -c "$SIZE" /dev/urandom >"$SRC"
[ "$(stat -c %s "$SRC")" -eq "$SIZE" ] || die "short source file"
SRC_SHA=$(sha256sum "$SRC" | cut -d' ' -f1)

# write + fsync cost of the file system, for scale (okurud fsyncs before 201)
TIMEFORMAT='%R'
FSYNC_S=$({ time dd if="$SRC" of="$W/fsync.probe" bs=1M conv=fsync status=none; } 2>&1)
rm -f "$W/fsync.probe"
unset TIMEFORMAT

start_okurud
start_nginx
TID=$(new_transfer)
[ -n "$TID" ] || die "could not create a transfer"

ok_cipher=$(curl -v -s -o /dev/null --cacert "$CERT" "$OKURL/healthz" 2>&1 |
	sed -n 's/^\* SSL connection using //p' | head -n 1)
ng_cipher=$(curl -v -s -o /dev/null --cacert "$CERT" "$NGURL/" 2>&1 |
	sed -n 's/^\* SSL connection using //p' | head -n 1)

# ---- the 1 GiB runs ----------------------------------------------------

declare -a OK_UP OK_DOWN NG_UP NG_DOWN OK_UP_CPU OK_DOWN_CPU NG_UP_CPU NG_DOWN_CPU
declare -a CL_OK_UP CL_OK_DOWN CL_NG_UP CL_NG_DOWN
FID=""
R="$W/r"

for run in $(seq 1 "$RUNS"); do
	info "run $run/$RUNS"

	# okurud upload
	c0=$(cpu_ticks "$OKPID")
	timed_curl "$R" --cacert "$CERT" "${AUTH[@]}" -T "$SRC" -o "$R.body" \
		"$OKURL/api/v1/transfers/$TID/files/run$run.bin"
	c1=$(cpu_ticks "$OKPID")
	read -r code up _ t <"$R.w"
	[ "$code" = 201 ] || die "okurud upload: HTTP $code: $(cat "$R.body")"
	[ "$up" -eq "$SIZE" ] || die "okurud upload: sent $up bytes"
	[ "$(json_get sha256 <"$R.body")" = "$SRC_SHA" ] || die "okurud upload: sha256 differs"
	FID=$(json_get id <"$R.body")
	wait_clean "$TID" "$FID"
	OK_UP+=("$(mbps "$SIZE" "$t")")
	OK_UP_CPU+=("$(per_gib "$c0" "$c1" "$SIZE")")
	CL_OK_UP+=("$(awk -v c="$(cat "$R.cpu")" -v s="$SIZE" 'BEGIN { printf "%.2f", c / (s / 1073741824) }')")

	# nginx upload
	ws=$(nginx_workers)
	# shellcheck disable=SC2086 # one or more PIDs
	c0=$(cpu_ticks $ws)
	timed_curl "$R" --cacert "$CERT" -T "$SRC" -o "$R.body" "$NGURL/put/src.bin"
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $ws)
	read -r code up _ t <"$R.w"
	case "$code" in 201 | 204) ;; *) die "nginx upload: HTTP $code" ;; esac
	[ "$up" -eq "$SIZE" ] || die "nginx upload: sent $up bytes"
	NG_UP+=("$(mbps "$SIZE" "$t")")
	NG_UP_CPU+=("$(per_gib "$c0" "$c1" "$SIZE")")
	CL_NG_UP+=("$(awk -v c="$(cat "$R.cpu")" -v s="$SIZE" 'BEGIN { printf "%.2f", c / (s / 1073741824) }')")

	# okurud download
	c0=$(cpu_ticks "$OKPID")
	timed_curl "$R" --cacert "$CERT" "${AUTH[@]}" -o /dev/null \
		"$OKURL/api/v1/transfers/$TID/files/$FID"
	c1=$(cpu_ticks "$OKPID")
	read -r code _ down t <"$R.w"
	[ "$code" = 200 ] || die "okurud download: HTTP $code"
	[ "$down" -eq "$SIZE" ] || die "okurud download: got $down bytes"
	OK_DOWN+=("$(mbps "$SIZE" "$t")")
	OK_DOWN_CPU+=("$(per_gib "$c0" "$c1" "$SIZE")")
	CL_OK_DOWN+=("$(awk -v c="$(cat "$R.cpu")" -v s="$SIZE" 'BEGIN { printf "%.2f", c / (s / 1073741824) }')")

	# nginx download
	ws=$(nginx_workers)
	# shellcheck disable=SC2086 # one or more PIDs
	c0=$(cpu_ticks $ws)
	timed_curl "$R" --cacert "$CERT" -o /dev/null "$NGURL/files/src.bin"
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $ws)
	read -r code _ down t <"$R.w"
	[ "$code" = 200 ] || die "nginx download: HTTP $code"
	[ "$down" -eq "$SIZE" ] || die "nginx download: got $down bytes"
	NG_DOWN+=("$(mbps "$SIZE" "$t")")
	NG_DOWN_CPU+=("$(per_gib "$c0" "$c1" "$SIZE")")
	CL_NG_DOWN+=("$(awk -v c="$(cat "$R.cpu")" -v s="$SIZE" 'BEGIN { printf "%.2f", c / (s / 1073741824) }')")
done

# ---- verification (untimed) --------------------------------------------

info "verifying one download from each server and the nginx upload"
curl -sS --fail --cacert "$CERT" "${AUTH[@]}" -o "$W/verify.bin" "$OKURL/api/v1/transfers/$TID/files/$FID"
[ "$(sha256sum "$W/verify.bin" | cut -d' ' -f1)" = "$SRC_SHA" ] || die "okurud download: sha256 differs"
curl -sS --fail --cacert "$CERT" -o "$W/verify.bin" "$NGURL/files/src.bin"
[ "$(sha256sum "$W/verify.bin" | cut -d' ' -f1)" = "$SRC_SHA" ] || die "nginx download: sha256 differs"
rm -f "$W/verify.bin"
cmp -s "$SRC" "$NG/dav/put/src.bin" || die "nginx upload: stored file differs"

OK_HWM1=$(vm_kib "$OKPID" VmHWM)
OK_THREADS=$(vm_kib "$OKPID" Threads)
NG_HWM=0
for p in $(nginx_workers); do
	h=$(vm_kib "$p" VmHWM)
	if [ "$h" -gt "$NG_HWM" ]; then NG_HWM=$h; fi
done

# ---- the big file, fresh okurud ----------------------------------------

OK_HWM0="" OK_HWM_BIGUP="" OK_HWM_BIGDOWN="" BIG_UP="" BIG_DOWN="" BIG_UP_CPU="" BIG_DOWN_CPU=""
if [ "$BIG_GIB" -gt 0 ]; then
	stop_nginx
	stop_okurud
	start_okurud
	OK_HWM0=$(vm_kib "$OKPID" VmHWM)
	TID2=$(new_transfer)
	reps=$(((BIG + SIZE - 1) / SIZE))
	info "fresh okurud: streaming ${BIG_GIB} GiB (chunked, no Content-Length) and downloading it"
	c0=$(cpu_ticks "$OKPID")
	# The source file $reps times over, cut to exactly BIG bytes; repeated
	# content makes no difference to okurud (fresh key, no compression).
	(for _ in $(seq 1 "$reps"); do cat "$SRC" || exit 0; done) | head -c "$BIG" |
		timed_curl "$R" --cacert "$CERT" "${AUTH[@]}" -T - -o "$R.body" \
			"$OKURL/api/v1/transfers/$TID2/files/big.bin"
	c1=$(cpu_ticks "$OKPID")
	read -r code up _ t <"$R.w"
	[ "$code" = 201 ] || die "okurud big upload: HTTP $code: $(cat "$R.body")"
	[ "$(json_get size <"$R.body")" -eq "$BIG" ] || die "okurud big upload: wrong size"
	BIGFID=$(json_get id <"$R.body")
	BIG_UP=$(mbps "$BIG" "$t")
	BIG_UP_CPU=$(per_gib "$c0" "$c1" "$BIG")
	OK_HWM_BIGUP=$(vm_kib "$OKPID" VmHWM)
	info "waiting for the scan of the ${BIG_GIB} GiB file"
	wait_clean "$TID2" "$BIGFID"
	c0=$(cpu_ticks "$OKPID")
	timed_curl "$R" --cacert "$CERT" "${AUTH[@]}" -o /dev/null \
		"$OKURL/api/v1/transfers/$TID2/files/$BIGFID"
	c1=$(cpu_ticks "$OKPID")
	read -r code _ down t <"$R.w"
	[ "$code" = 200 ] && [ "$down" -eq "$BIG" ] || die "okurud big download: HTTP $code, $down bytes"
	BIG_DOWN=$(mbps "$BIG" "$t")
	BIG_DOWN_CPU=$(per_gib "$c0" "$c1" "$BIG")
	OK_HWM_BIGDOWN=$(vm_kib "$OKPID" VmHWM)
fi

# ---- report ------------------------------------------------------------

read -r oub oum <<<"$(stats "${OK_UP[@]}")"
read -r nub num <<<"$(stats "${NG_UP[@]}")"
read -r odb odm <<<"$(stats "${OK_DOWN[@]}")"
read -r ndb ndm <<<"$(stats "${NG_DOWN[@]}")"
med2() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f\n", m }'; }
# medcpu "T/U/S"... -> "T (user U, sys S)" of the run with the median total
medcpu() { printf '%s\n' "$@" | sort -t/ -g -k1,1 | awk -F/ '{ v[NR] = $0 } END {
	split(v[int((NR + 1) / 2)], x, "/"); printf "%5.2f (user %5.2f, sys %5.2f)", x[1], x[2], x[3] }'; }
fmtcpu() { awk -F/ '{ printf "%.2f CPU s/GiB: user %.2f, sys %.2f", $1, $2, $3 }' <<<"$1"; }

echo
say "okuru transfer benchmark - $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "okurud:  $SRCDESC"
say "nginx:   $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(openssl version 2>/dev/null | cut -d' ' -f1-2)"
say "client:  $(curl --version | head -n 1 | cut -d' ' -f1-5)"
say "machine: $(nproc) CPUs ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r)"
say "TLS:     okurud $ok_cipher; nginx $ng_cipher"
say "sendfile: $KTLS_NOTE"
say "file:    $SIZE bytes (${SIZE_MIB} MiB) from /dev/urandom, page-cached; $RUNS runs each, interleaved"
say "disk:    dd write + fsync of the file: ${FSYNC_S} s (okurud fsyncs before its 201; nginx does not)"
say "placing: $PINDESC"
say "units:   MB/s = 10^6 bytes per second, over curl's time_total (connect, TLS, body, final response)"
echo
printf '%-10s %12s %12s %12s %12s %10s %10s\n' operation "okurud best" "okurud med" "nginx best" "nginx med" "ratio best" "ratio med"
printf '%-10s %12s %12s %12s %12s %10s %10s\n' upload "$oub" "$oum" "$nub" "$num" "$(ratio "$oub" "$nub")" "$(ratio "$oum" "$num")"
printf '%-10s %12s %12s %12s %12s %10s %10s\n' download "$odb" "$odm" "$ndb" "$ndm" "$(ratio "$odb" "$ndb")" "$(ratio "$odm" "$ndm")"
echo
say "per-run MB/s:"
say "  okurud upload:   ${OK_UP[*]}"
say "  nginx upload:    ${NG_UP[*]}"
say "  okurud download: ${OK_DOWN[*]}"
say "  nginx download:  ${NG_DOWN[*]}"
echo
say "server CPU seconds (user+sys) per GiB, median:"
printf '  %-9s okurud %s   nginx worker %s\n' upload "$(medcpu "${OK_UP_CPU[@]}")" "$(medcpu "${NG_UP_CPU[@]}")"
printf '  %-9s okurud %s   nginx worker %s\n' download "$(medcpu "${OK_DOWN_CPU[@]}")" "$(medcpu "${NG_DOWN_CPU[@]}")"
say "client (curl) CPU seconds per GiB, median: upload to okurud $(med2 "${CL_OK_UP[@]}"), to nginx $(med2 "${CL_NG_UP[@]}"); download from okurud $(med2 "${CL_OK_DOWN[@]}"), from nginx $(med2 "${CL_NG_DOWN[@]}")"
echo
say "download target (median okurud >= 0.9 x nginx): $(awk -v a="$odm" -v b="$ndm" 'BEGIN { print (a >= 0.9 * b) ? "met" : "NOT met" }')"
echo
say "memory:"
say "  okurud VmHWM after the ${SIZE_MIB} MiB runs ($((RUNS * 2 + 1)) transfers): $OK_HWM1 KiB ($(awk -v k="$OK_HWM1" 'BEGIN { printf "%.1f", k / 1024 }') MiB), $OK_THREADS threads at the end"
say "  nginx worker VmHWM after the same runs: $NG_HWM KiB"
if [ "$BIG_GIB" -gt 0 ]; then
	say "  fresh okurud VmHWM at start:                 $OK_HWM0 KiB"
	say "  fresh okurud VmHWM after ${BIG_GIB} GiB chunked upload: $OK_HWM_BIGUP KiB ($BIG_UP MB/s, $(fmtcpu "$BIG_UP_CPU"))"
	say "  fresh okurud VmHWM after ${BIG_GIB} GiB download:       $OK_HWM_BIGDOWN KiB ($BIG_DOWN MB/s, $(fmtcpu "$BIG_DOWN_CPU"))"
	say "  peak RSS target (< 64 MiB, flat in file size): $(awk -v a="$OK_HWM1" -v b="$OK_HWM_BIGDOWN" -v big="$BIG_GIB" -v small="$SIZE_MIB" 'BEGIN {
		m = (a > b) ? a : b
		printf "%s (largest VmHWM %.1f MiB); %s GiB file vs %s MiB files: %+.1f MiB",
			(m < 65536) ? "met" : "NOT met", m / 1024, big, small, (b - a) / 1024 }')"
fi
echo
say "elapsed: ${SECONDS} s"
