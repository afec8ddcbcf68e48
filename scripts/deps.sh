#!/bin/bash
# deps.sh - install the Debian 12 packages okuru needs to build, run and test.
# Idempotent: apt-get skips what is already installed. Run as root.
set -euo pipefail

PKGS=(
	build-essential autoconf automake libtool pkg-config
	libmicrohttpd-dev libgnutls28-dev gnutls-bin libsodium-dev libclamav-dev
	libcmocka-dev libsqlite3-dev sqlite3 libjansson-dev libconfig-dev libunistring-dev
	libseccomp-dev libcurl4-gnutls-dev libmagic-dev libmagic-mgc libqrencode-dev
	curl openssl ca-certificates python3 python3-aiosmtpd procps
	clamav clamav-testfiles zip unzip
	faketime jq
	chromium fonts-ipafont-gothic
	libnss3-tools # certutil: the browser tests trust okurud's test certificate
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps: all ${#PKGS[@]} packages present"

# The browser and tus tests (tests/js): playwright-core drives Debian's
# chromium above (it never downloads a browser of its own), tus-js-client
# is the reference tus client. Pinned by tests/js/package-lock.json.
if ! command -v npm >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$top/tests/js/node_modules" ] ||
	[ "$top/tests/js/package-lock.json" -nt "$top/tests/js/node_modules/.package-lock.json" ]; then
	(cd "$top/tests/js" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "deps: node $(node --version), tests/js modules present"
